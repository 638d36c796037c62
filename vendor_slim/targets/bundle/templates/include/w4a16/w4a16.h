// w4a16: one FP16-activation x INT4-weight GEMM API over every backend this build holds (TensorRT-LLM's
// fpA_intB CUTLASS kernels and GEMV: library w4a16_sm90; vLLM's Machete: library machete_sm90), each in
// its own shared library with its own CUTLASS and its upstream symbols hidden. This library only
// dispatches: a weight is prepared once for every backend it will use (their packed formats differ),
// and gemm() runs, per shape, the fastest backend and config, taken from the tactics file or measured
// once (then kept, and written back by save_tactics()).
//
//   C[m, n] = A[m, k] * W[k, n],   W[k, n] = q[k, n] * scales[k / g, n]              (Quant::Symmetric)
//                                   W[k, n] = q[k, n] * scales[k / g, n] + zeros[...] (Quant::ScalesZeros)
//
// q signed int4 in [-8, 7]. Inputs as in w4a16_sm90.h: A [m, k], C [m, n], scales / zeros [k / g, n],
// all row-major __half on the device; the weights row-major [k, n], two per byte, even column in the
// low nibble, on the host. Needs a compute capability 9.0 device (H100 / H200).
//
// Backends per quant: Symmetric: TensorRT-LLM (Finegrained, or PerColumn when g == k) and Machete
// (uint4b8 = q + 8, GPTQ style). ScalesZeros: TensorRT-LLM only (Machete's zeros are pre-scaled and
// subtracted, a different convention: see docs/bundle.md).
//
// Plain C++17 plus the CUDA runtime headers; includes nothing from CUTLASS, TensorRT-LLM or PyTorch.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace w4a16
{

enum class Quant
{
    Symmetric,
    ScalesZeros,
};

// The backends compiled into this build, e.g. {"trtllm", "machete"}. Needs no GPU.
std::vector<std::string> backends();

// The config names of a backend for a quant (its list_configs()); empty when it does not support it.
std::vector<std::string> list_configs(std::string const& backend, Quant q);

// A weight prepared for each backend that supports its quant and shape (all compiled ones, or those in
// `use`). The scales / zeros stay owned by the caller and must outlive the Weight; the prepared weights
// are copies in device memory owned by the Weight. Throws std::invalid_argument when no backend can
// take it.
class Weight
{
public:
    Weight(Quant q, int8_t const* packed_int4_row_major_host, __half const* scales, __half const* zeros, int k, int n,
        int group_size, std::vector<std::string> const& use = {}, cudaStream_t stream = nullptr);
    ~Weight();
    Weight(Weight const&) = delete;
    Weight& operator=(Weight const&) = delete;

    Quant quant() const;
    int k() const;
    int n() const;
    int group_size() const;
    // The backends this weight was prepared for.
    std::vector<std::string> prepared() const;

    struct Impl;
    Impl const& impl() const;

private:
    std::unique_ptr<Impl> impl_;
};

// Device workspace gemm() may need for m rows (the largest over the prepared backends and configs).
size_t workspace_size(Weight const& w, int m);

// C = A * W by the fastest prepared backend and config for (m, n, k, group, this GPU): from the tactics
// loaded (load_tactics) or, the first time a shape is seen, by timing every config of every prepared
// backend that has no tactics line for it (CUDA events, L2 flushed before each timed run; the stream is
// synchronized, C written several times). Later calls dispatch at once. Not during graph capture for a
// shape not yet decided.
void gemm(Weight const& w, __half const* A, __half* C, int m, void* workspace, size_t workspace_bytes,
    cudaStream_t stream);

// A named backend and config (a name list_configs() gives), no choice made.
void run_config(Weight const& w, std::string const& backend, std::string const& config, __half const* A, __half* C,
    int m, void* workspace, size_t workspace_bytes, cudaStream_t stream);

struct Choice
{
    std::string backend; // "" when the shape has not been decided yet
    std::string config;
    double us = 0.0;     // the measured (or loaded) median time
};

// What gemm() runs for this shape now; does not profile.
Choice choice(Weight const& w, int m);

// Tactics file (include/vendor_slim/tactics.h format, one line per shape, GPU and backend): load merges
// the file into the table (malformed: std::invalid_argument naming FILE:LINE; other GPUs' lines kept,
// ignored, one warning); save writes the table atomically (the file's other lines kept). Returns the
// number of lines for this GPU after a load, the number written by a save.
int load_tactics(std::string const& path);
int save_tactics(std::string const& path);

// How many shapes this process has profiled (0 when every shape came from the tactics file).
long long profiling_passes();

} // namespace w4a16
