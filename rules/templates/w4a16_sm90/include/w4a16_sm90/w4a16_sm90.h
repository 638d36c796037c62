// w4a16_sm90: FP16 activations x signed INT4 weights GEMM for Hopper (compute capability 9.0),
// a thin wrapper over TensorRT-LLM's CutlassFpAIntBGemmRunner<half, cutlass::uint4b_t, QuantOp>.
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
// process (function-local statics, so creation is thread-safe). After that the functions keep no
// mutable shared state and may be called concurrently from several threads; the usual CUDA rules
// apply to the buffers and streams you pass. The runner records the SM count of the device that
// was current when it was created; use one device type per process.
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

} // namespace w4a16_sm90
