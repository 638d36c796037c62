// Stand-in: the declarations of the Machete target's public header that the bundle's dispatcher uses
// (same names and signatures).
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>
#include <vector>

namespace machete_sm90
{
enum class QuantStyle
{
    Gptq,
    Awq,
};
bool is_compiled(QuantStyle style);
std::vector<std::string> list_configs(QuantStyle style);
void prepack(QuantStyle style, void* dst, void const* src, int n, int k, cudaStream_t stream);
std::size_t workspace_size(QuantStyle style, int m, int n, int k, int group_size, char const* config = nullptr);
void mm(QuantStyle style, __half const* A, void const* B_prepacked, __half const* scales, __half const* zeros,
    __half* C, int m, int n, int k, int group_size, void* workspace, std::size_t workspace_bytes,
    cudaStream_t stream, char const* config = nullptr);
} // namespace machete_sm90
