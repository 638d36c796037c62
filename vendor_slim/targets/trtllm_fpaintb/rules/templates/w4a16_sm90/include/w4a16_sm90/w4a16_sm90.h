// w4a16_sm90: FP16 activations x signed INT4 weights GEMM for Hopper (compute capability 9.0),
// a thin wrapper over TensorRT-LLM's CutlassFpAIntBGemmRunner<half, cutlass::uint4b_t, QuantOp> and
// (when the build has it, see has_gemv()) TensorRT-LLM's CUDA-core batched GEMV for small m
// (kernels/weightOnlyBatchedGemv, KernelType::FP16Int4Groupwise, the SM 9.0 variant: ColumnMajor
// weights, no converter interleave).
//
// Entry points: gemm() runs one CUTLASS config; gemv() runs the GEMV; gemm_auto() picks between all
// of them per shape by timing them once (see there).
//
// This header is plain C++17 plus the CUDA runtime headers; it includes nothing from CUTLASS or
// TensorRT-LLM.
//
//   C[m, n] = sum_k A[m, k] * W[k, n]  (+ bias[n])
//
// where W is the dequantized weight matrix
//
//   PerColumn:         W[k, n] = q[k, n] * scales[n]
//   Finegrained:       W[k, n] = q[k, n] * scales[k / group_size, n]
//   FinegrainedZeros:  W[k, n] = q[k, n] * scales[k / group_size, n] + zeros[k / group_size, n]
//
// q is a signed 4-bit integer in [-8, 7]. The zero point is added after scaling (it is an offset in
// the dequantized domain, not an integer zero point that is subtracted from q). The kernel forms
// q * scale and then adds the zero in FP16 arithmetic (half_t multiply and add; ptxas may fuse them
// into one FMA), feeds the FP16 result to the tensor cores and accumulates in FP32; acc + bias is
// computed in FP32 and rounded to FP16 once.
//
// Layouts (all row-major, all dense, no padding):
//   A       [m, k]              __half
//   B       [k, n]              signed int4, preprocessed with preprocess_weights() (k * n / 2 bytes)
//   scales  [n]                 __half (PerColumn)
//           [k / group_size, n] __half (Finegrained, FinegrainedZeros)
//   zeros   [k / group_size, n] __half (FinegrainedZeros only; must be null otherwise)
//   bias    [n]                 __half (optional)
//   C       [m, n]              __half
//
// Requirements checked by gemm() (std::invalid_argument when violated):
//   m >= 0 (m == 0 does nothing), n > 0, k > 0, n % 64 == 0, k % 64 == 0;
//   A, B, scales, C (and zeros / bias when given) 16-byte aligned (TMA);
//   Finegrained*: group_size a positive multiple of 64 that divides k (TensorRT-LLM uses 64 and 128);
//   PerColumn:    group_size == k (0 is accepted and means k);
//   workspace_bytes >= workspace_size(op, m, n, k), workspace non-null when that is non-zero.
// Failures reported by the kernel library or the CUDA runtime are thrown as std::runtime_error.
//
// Device: every function except is_compiled() needs the calling thread's current CUDA device to
// have compute capability 9.0 (H100 / H200 / GH200) and throws std::runtime_error otherwise.
// This includes preprocess_weights(): TensorRT-LLM picks the weight layout from the current
// device's SM version, and only the SM 9.0 layout is valid for these kernels.
//
// Threads: one runner per QuantOp is created lazily on first use and kept for the life of the
// process (function-local statics, so creation is thread-safe). Apart from gemm_auto()'s choice
// cache and the GEMV threshold override (both guarded, see there) the functions keep no mutable
// shared state and may be called concurrently from several threads; the usual CUDA rules apply to
// the buffers and streams you pass. The runner records the SM count of the device that was current
// when it was created; use one device type per process.
//
// Logging: TensorRT-LLM's logger prints DEBUG lines on every call when the library was built
// without NDEBUG. Unless the environment variable TLLM_LOG_LEVEL is set, every entry point here
// sets that logger (it is thread-local) to WARNING once per calling thread.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace w4a16_sm90
{

enum class QuantOp
{
    PerColumn,        // cutlass::WeightOnlyQuantOp::PER_COLUMN_SCALE_ONLY
    Finegrained,      // cutlass::WeightOnlyQuantOp::FINEGRAINED_SCALE_ONLY
    FinegrainedZeros, // cutlass::WeightOnlyQuantOp::FINEGRAINED_SCALE_AND_ZEROS
};

// Whether this build of the library contains the kernels for `op`. All other functions throw
// std::invalid_argument for an op that is not compiled. Needs no GPU.
bool is_compiled(QuantOp op);

// Converts a K x N signed-int4 weight matrix to the layout the kernels read.
//
// Input: row-major [k, n], two elements per byte, k * n / 2 bytes. Byte (r * n + c) / 2 holds
// element (r, c) with c even in its LOW nibble (bits 0-3) and element (r, c + 1) in its HIGH nibble
// (bits 4-7), each as a two's-complement 4-bit value in [-8, 7]. This is the packing of TensorRT-LLM's
// symmetric_quantize / torch.ops.trtllm.pack_int8_tensor_to_packed_int4:
//   byte = (uint8_t)((q[r][c] & 0xF) | ((q[r][c + 1] & 0xF) << 4))
//
// Output: k * n / 2 bytes in the kernel's layout (on SM 9.0 this is the column-major [n, k] matrix,
// packed the same way along k; treat it as opaque). `out` may be the same buffer as the input.
// Host memory only. Requires k % 64 == 0 and n % 64 == 0 and a CC 9.0 current device.
void preprocess_weights(int8_t* out, int8_t const* packed_int4_row_major, int k, int n);

// Bytes of device workspace gemm() needs for this problem size (independent of the config).
size_t workspace_size(QuantOp op, int m, int n, int k);

// Number of kernel configurations (tile shape x cluster shape) available for `op`; valid config
// indices are 0 .. num_configs(op) - 1. The list is fixed for the process.
int num_configs(QuantOp op);

// Readable description of config `index`, e.g.
//   "tile(n,m,k)=128x16x64 cluster(n,m,k)=2x1x1 mainloop=cooperative epilogue=tma_ws_cooperative
//    stages=auto [CtaShape128x16x128B]"
// Upstream swaps A and B on Hopper, so the first tile / cluster extent runs along n (weights) and the
// second along m (tokens); K is given in elements (the upstream name gives it in bytes).
std::string config_name(QuantOp op, int index);

// C = A * dequant(B) (+ bias), asynchronously on `stream`. See the top of this file for layouts and
// requirements. config_index -1 picks an untuned default by m (tile n x m = 64x16 for m <= 16,
// 64x32 for m <= 32, 64x64 for m <= 64, else 128x128, cluster 1x1x1; config 0 if that one is not
// in this build); for the best speed, time the configs for your shapes (see the test program).
//
// PerColumn with a bias: the upstream per-column entry point has no bias argument, so the bias is
// added by a separate small kernel on the same stream after the GEMM (one more FP16 rounding).
void gemm(QuantOp op, __half const* A, void const* B_preprocessed, __half const* scales,
    __half const* zeros /*nullable*/, __half const* bias /*nullable*/, __half* C, int m, int n, int k, int group_size,
    void* workspace, size_t workspace_bytes, cudaStream_t stream, int config_index = -1);

// ---------------------------------------------------------------------------------------------------
// CUDA-core GEMV for small m (TensorRT-LLM weightOnlyBatchedGemv, FP16Int4Groupwise)

// Whether this build contains the GEMV kernels. Needs no GPU.
bool has_gemv();

// The largest m the GEMV handles (read by the build from the upstream dispatcher: 4 on the
// TensorRT-LLM vintage of early 2024); 0 when has_gemv() is false. Needs no GPU.
int gemv_max_m();

// C = A * dequant(B) (+ bias) through the GEMV, asynchronously on `stream`. Same arguments, layouts
// and data as gemm() (the SAME preprocessed weights, scales [k / group_size, n], zeros, bias), minus
// config_index. Differences:
//   - op must be Finegrained or FinegrainedZeros (the upstream kernel type is groupwise only;
//     PerColumn throws std::invalid_argument). It does not need the CUTLASS kernels of `op` to be
//     compiled (is_compiled(op)), only has_gemv().
//   - 0 <= m <= gemv_max_m() (m == 0 does nothing); group_size 64 or 128 (the group sizes the
//     upstream dispatcher instantiates) dividing k; n, k multiples of 64 and n * k < 2^31.
//   - workspace / workspace_bytes are not used (may be null / 0); they are accepted so that the
//     argument lists of gemm(), gemv() and gemm_auto() match.
// Dequantization is the same as gemm()'s: W = q * scale (+ zero), the zero added after scaling, but
// computed as one FP16 FMA (one rounding; gemm() may round q * scale first: <= 1 FP16 ulp per weight).
// Accumulation differs: each of the 128 threads of a block accumulates its k / 128 products per
// output in FP16 (packed half2 FMAs), the 128 partial sums are then added in FP32, bias added in FP32,
// one rounding to FP16. The FP16 partial sums make the error larger than gemm()'s and let it grow with
// k: measured on random data (max|C - C_ref| / max|C_ref|), about 1e-3 at k = 2048 to 8192 and 2e-3 to
// 3e-3 at k = 28672, where gemm() stays at about 5e-4. Partial sums beyond the FP16 range (65504)
// overflow, which the CUTLASS path (FP32 accumulation) would not.
// Capturable in a CUDA graph (one kernel launch, no synchronization).
void gemv(QuantOp op, __half const* A, void const* B_preprocessed, __half const* scales,
    __half const* zeros /*nullable*/, __half const* bias /*nullable*/, __half* C, int m, int n, int k, int group_size,
    void* workspace, size_t workspace_bytes, cudaStream_t stream);

// ---------------------------------------------------------------------------------------------------
// One dispatching entry point

// C = A * dequant(B) (+ bias) by the fastest path for this shape: the GEMV or the best CUTLASS config.
// Same arguments and requirements as gemm() without config_index (workspace as for gemm()).
//
// Profiling: the first call for a given (current device, op, m, n, k, group_size, bias given or not)
// times every CUTLASS config of `op` and, when the GEMV is eligible (has_gemv(), op Finegrained or
// FinegrainedZeros, group_size 64 or 128, m <= gemv_max_m()), the GEMV, on `stream` with CUDA events:
// 2 warm-up runs each, then 3 to 10 timed runs each (fewer for slow kernels), each timed run preceded
// by a write of 2x the L2 size to a scratch buffer so that every candidate reads the weights from
// DRAM as in decoding, the GPU held by a short spin kernel while the runs are queued so that host
// launch overhead is not measured; the candidate with the smallest median wins. The result is kept in
// a mutex-guarded cache for the life of the process; later calls dispatch at once (one map look-up).
// Consequences:
//   - the first call for a shape is slow (milliseconds to about a second for the largest shapes),
//     synchronizes `stream` (and, through cudaMalloc / cudaFree of the scratch buffer, the device),
//     allocates about 2x the L2 size of device memory for its duration (skipped, with timing on a warm
//     L2, if that fails), and writes C several times (the final run overwrites it);
//   - it must not run inside CUDA graph capture (a capturing `stream` is refused with
//     std::runtime_error): call gemm_auto() once per shape before capturing. Cached calls are plain
//     gemm() / gemv() launches and can be captured;
//   - profiling passes of different threads are serialized; the timings assume the GPU is otherwise
//     idle (other work on the GPU can skew the choice);
//   - a config that throws during profiling is skipped; if none runs, the error is rethrown.
//
// Override: set_gemv_max_m(t), or the environment variable W4A16_SM90_GEMV_MAX_M=t (read once, at
// the first call of gemm_auto(), gemm_auto_choice(), gemm_auto_config(), set_gemv_max_m() or
// gemv_max_m_override(); set_gemv_max_m() wins over it afterwards):
//   t = -1 (default): automatic, the profiled fastest path;
//   t =  0          : never the GEMV;
//   t >  0          : the GEMV exactly when m <= min(t, gemv_max_m()) (and the GEMV is eligible as
//                     above), else CUTLASS.
// With an override, the CUTLASS path still uses the profiled best CUTLASS config for the shape (the
// GEMV is profiled too, so changing the override later needs no new profiling); when the override
// sends a shape to the GEMV, no profiling happens for it.
void gemm_auto(QuantOp op, __half const* A, void const* B_preprocessed, __half const* scales,
    __half const* zeros /*nullable*/, __half const* bias /*nullable*/, __half* C, int m, int n, int k, int group_size,
    void* workspace, size_t workspace_bytes, cudaStream_t stream);

// Sets the GEMV threshold override (-1 automatic, 0 never, t > 0 see above; std::invalid_argument
// for t < -1). Thread-safe; takes effect at the next gemm_auto() call. Needs no GPU.
void set_gemv_max_m(int t);

// The current override (-1 when automatic). Needs no GPU.
int gemv_max_m_override();

// What gemm_auto() does now for this shape (group_size 0 means k for PerColumn, as in gemm()):
// gemm_auto_config returns -1 for the GEMV, a config index >= 0 for CUTLASS, -2 when the shape has
// not been profiled yet (and the override does not send it to the GEMV). gemm_auto_choice returns
// "gemv", config_name(op, index), or "" for not profiled. They do not profile. Thread-safe.
int gemm_auto_config(QuantOp op, int m, int n, int k, int group_size, bool has_bias = false);
std::string gemm_auto_choice(QuantOp op, int m, int n, int k, int group_size, bool has_bias = false);

// ---------------------------------------------------------------------------------------------------
// Config names and tactics: the interface every vendor-slim tree's library and test program share
// (see the tree's include/vendor_slim/tactics.h and docs: one tactics file per GPU fleet, profiled once).

// Short, stable names of the configs of `op`, usable as a test program's --config and in tactics
// files: the CUTLASS configs in index order (list_configs(op)[i] is config i), named from their fields,
// e.g. "sm90_t64x16x64_c1x1x1_pingpong" (tile and cluster along n first, as in config_name(); K in
// elements), then "gemv" when has_gemv() and op is not PerColumn.
std::vector<std::string> list_configs(QuantOp op);

// The index of a listed name (-1 for "gemv"); std::invalid_argument for a name this build lacks.
int config_index(QuantOp op, std::string const& name);

// Runs the named config: gemv() for "gemv", else gemm() with its index (same arguments and rules).
void run_config(QuantOp op, std::string const& config, __half const* A, void const* B_preprocessed,
    __half const* scales, __half const* zeros /*nullable*/, __half const* bias /*nullable*/, __half* C, int m, int n,
    int k, int group_size, void* workspace, size_t workspace_bytes, cudaStream_t stream);

// The current device's key in tactics files: "NAME:smXY:SMS", e.g. "NVIDIA_H200:sm90:132".
std::string gpu_key();

// Reads a tactics file into gemm_auto()'s choice cache, for the current device: its lines for this GPU
// key with backend "trtllm" and QUANT fg / fgz / pc (an op this build has). gemm_auto() then never
// profiles a loaded shape (a loaded "gemv" line that an override sends to CUTLASS is profiled, since
// it names no CUTLASS config). A loaded line replaces the cached choice, and serves calls with and
// without bias. A missing file loads nothing (returns 0); a malformed one throws std::invalid_argument
// "w4a16_sm90: load_tactics: FILE:LINE: ..." and loads nothing. Lines of other GPUs are ignored with
// one warning on stderr, as are lines naming a config or shape this build cannot run. Returns the
// number of lines loaded. Thread-safe; not during CUDA graph capture (it queries the device).
int load_tactics(std::string const& path);

// Writes every choice gemm_auto() has made or loaded in this process to the tactics file (one line
// per shape: the GEMV when it won, else the best CUTLASS config, with its profiled median time),
// merged into what the file holds now (its other lines are kept; this process's lines replace the
// same keys). Atomic (temporary file + rename). Returns the number of lines written from this process;
// std::runtime_error when the file cannot be written or what is there is malformed.
int save_tactics(std::string const& path);

// How many profiling passes gemm_auto() has run in this process (0 after loading tactics for every
// shape used: nothing was profiled). Needs no GPU.
long long profiling_passes();

} // namespace w4a16_sm90
