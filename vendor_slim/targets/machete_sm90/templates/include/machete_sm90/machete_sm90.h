// machete_sm90: vLLM's Machete W4A16 GEMM for Hopper (sm_90a), extracted by vendor-slim.
//
// FP16 activations x 4-bit weights with FP16 group scales, FP16 output, FP32 accumulation:
//   C[m, n] = sum_k A[m, k] * W[k, n]
// with, per quant style (w is formed in FP16 exactly as the kernel does: fp16(fp16(q) * s) (+ z)):
//   Gptq: q = u - 8      (vLLM scalar type uint4b8, symmetric), w = q * s
//   Awq:  q = u          (vLLM scalar type uint4),              w = q * s + z
// where u in [0, 15] is the stored nibble, s = scales[k / group_size][n], z = zeros[k / group_size][n].
// Machete takes the zero point pre-scaled: for an AWQ zero point zp use z = -zp * s.
//
// This header has no PyTorch, Python or CUTLASS types: pointers are device pointers, every call is
// asynchronous on the given stream (PyTorch is still a link dependency of the library: Machete's
// upstream code is written against torch::Tensor, which the library wraps around these pointers
// without copying).
//
// Layouts (all row-major, no padding):
//   A        [m, k] fp16
//   weights  [n, k/2] bytes before prepack: row n holds the k nibbles of output column n, element k
//            in byte k/2, low nibble first (= PyTorch int32 [k/8, n] column-major, vLLM's input to
//            machete_prepack_B); prepack() turns it into Machete's layout (same size)
//   scales   [k / group_size, n] fp16;  zeros (Awq only) [k / group_size, n] fp16
//   C        [m, n] fp16
// Constraints: n % 128 == 0, k % 64 == 0, group_size in {-1 (= k, per column), k} or a multiple of 64
// that divides k; pointers 16-byte aligned.
//
// Configs: a config is one compiled Machete schedule, named as upstream names it
// (e.g. "128x16_1x1x1_TmaMI__TmaCoop_streamK": tile N x M, cluster, mainloop/epilogue, tile scheduler).
// mm() with no config runs the schedule Machete's own heuristic (the generated mm_dispatch) picks.
// mm_tuned() runs the config from the tactics table, profiling once per shape when none is known.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace machete_sm90
{

enum class QuantStyle
{
    Gptq, // uint4b8 + scales
    Awq,  // uint4 + scales + pre-scaled zeros
};

// "gptq" / "awq"; parse_style() accepts those names and throws std::invalid_argument otherwise.
char const* style_name(QuantStyle style);
QuantStyle parse_style(std::string const& name);

// Whether the build holds kernels for this style (the tree may have been extracted for one only).
bool is_compiled(QuantStyle style);

// The compiled configs of a style, in upstream order; empty when the style is not compiled.
std::vector<std::string> list_configs(QuantStyle style);

// The upstream Machete sources this build was extracted from (for results files).
char const* upstream_version();

// Prepacks weights into Machete's layout: dst and src are device buffers of n * k / 2 bytes
// (layout above). Runs Machete's own prepack kernel on `stream`.
void prepack(QuantStyle style, void* dst, void const* src, int n, int k, cudaStream_t stream);

// Workspace bytes that mm() needs for this shape and config; config nullptr or "" = the largest
// over every compiled config of the style (enough for mm() with any config, the heuristic or mm_tuned).
std::size_t workspace_size(QuantStyle style, int m, int n, int k, int group_size, char const* config = nullptr);

// The config Machete's heuristic picks for this shape (the generated mm_dispatch, unchanged).
std::string heuristic_config(QuantStyle style, int m, int n, int k, int group_size);

// C = A * dequant(B). config nullptr or "" = Machete's heuristic; otherwise a name from
// list_configs(). Throws std::invalid_argument for bad arguments, an unknown config or a too small
// workspace (before anything runs), std::runtime_error when the kernel cannot run the shape.
void mm(QuantStyle style, __half const* A, void const* B_prepacked, __half const* scales, __half const* zeros,
    __half* C, int m, int n, int k, int group_size, void* workspace, std::size_t workspace_bytes,
    cudaStream_t stream, char const* config = nullptr);

// The same product through vLLM's own launcher (mm_dispatch -> run_impl, which allocates the output
// and workspace with PyTorch's allocator), copied into C. For validation: the extracted code path
// must give what the upstream one gives.
void mm_upstream(QuantStyle style, __half const* A, void const* B_prepacked, __half const* scales,
    __half const* zeros, __half* C, int m, int n, int k, int group_size, cudaStream_t stream,
    char const* config = nullptr);

// ---------------------------------------------------------------------------------------------------
// Tactics: the best config per (style, m, n, k, group_size, GPU), kept in a human-readable text file
// so that an engine profiles once per GPU and shape and never again at start-up. The file is
// vendor-slim's common tactics format (vendor_slim/tactics.h, the same in every tree):
//   vendor-slim-tactics v1
//   # M N K GROUP QUANT GPU BACKEND CONFIG US
//   16 28672 8192 128 u4b8 NVIDIA_H200:sm90:132 machete 128x16_1x1x1_TmaMI__TmaCoop_streamK 55.700
// with BACKEND "machete", QUANT the vLLM weight type ("u4b8" = Gptq, "u4" = Awq), GPU the key of
// gpu_key(). One table per process, shared by every thread (guarded).

// This device's key in tactics files: "NAME:smXY:SMS" (e.g. NVIDIA_H200:sm90:132).
std::string gpu_key();

struct TacticsLoad
{
    bool found = false;      // false: no such file (an empty table; nothing changed)
    std::size_t entries = 0; // entries in the table after the load (every GPU)
    std::string warning;     // "" or e.g. the entries for another GPU that are ignored
};

// Merges the file into the table. A malformed file throws std::invalid_argument "FILE:LINE: why"
// and changes nothing; an unreadable one throws std::runtime_error.
TacticsLoad load_tactics(std::string const& path);

// Writes the whole table (every GPU) to `path` atomically (temporary file, then rename).
void save_tactics(std::string const& path);

// The table's config for this GPU and shape, or "" if none.
std::string tactic(QuantStyle style, int m, int n, int k, int group_size);
void set_tactic(QuantStyle style, int m, int n, int k, int group_size, std::string const& config, double us);
void clear_tactics();

// Times every compiled config on the given buffers (each run overwrites C) and records the fastest
// in the table; returns its name. Counts as one profiling run.
std::string profile(QuantStyle style, __half const* A, void const* B_prepacked, __half const* scales,
    __half const* zeros, __half* C, int m, int n, int k, int group_size, void* workspace,
    std::size_t workspace_bytes, cudaStream_t stream);

// mm() with the config from the table; when the table has none for this shape, profile() first.
void mm_tuned(QuantStyle style, __half const* A, void const* B_prepacked, __half const* scales,
    __half const* zeros, __half* C, int m, int n, int k, int group_size, void* workspace,
    std::size_t workspace_bytes, cudaStream_t stream);

// How many profile() runs this process made (a run with saved tactics should report 0).
int profile_count();

} // namespace machete_sm90
