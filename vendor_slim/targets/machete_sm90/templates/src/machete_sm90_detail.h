// Internal interface between the library TU (machete_sm90.cu), the regrouped impl TUs and the
// heuristic TU. Not installed.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

// Per style (the tokens of MACHETE_SM90_STYLES / MACHETE_SM90_IMPLS in machete_sm90/config.h): vLLM's
// weight scalar type and whether the style has zero points.
#define MACHETE_SM90_B_TYPE_gptq vllm::kU4B8
#define MACHETE_SM90_ZEROS_gptq false
#define MACHETE_SM90_B_TYPE_awq vllm::kU4
#define MACHETE_SM90_ZEROS_awq true

namespace machete_sm90::detail
{

struct RunArgs
{
    void const* A;
    void const* B;
    void const* scales;
    void const* zeros; // nullptr for Gptq
    void* C;
    int64_t m, n, k, group_size; // group_size already resolved (-1 -> k)
    void* workspace;
    std::size_t workspace_bytes;
    cudaStream_t stream;
    int device;
};

using RunFn = void (*)(RunArgs const&);
using WorkspaceFn = std::size_t (*)(RunArgs const&);

} // namespace machete_sm90::detail
