// w4a16_sm90: implementation over TensorRT-LLM's CutlassFpAIntBGemmRunner<half, cutlass::uint4b_t, QuantOp>
// and TensorRT-LLM's CUDA-core batched GEMV (weightOnlyBatchedGemv).
//
// Only the runner's declaration is included here. Its members are defined by the upstream runner TUs
// (fpA_intB_gemm/fp16_int4_gemm_{per_col,fg_scaleonly,fg_scalebias}.cu, each an explicit instantiation
// of the class), so a runner is referenced only for the ops that w4a16_sm90/config.h says are compiled.
// Likewise only the GEMV's select_gs<> declaration (kernelLauncher.h) is included; its one instantiation
// this library uses is defined by the upstream dispatcher TU that the build selected
// (kernelDispatcher*.cu with INSTANTIATE_WEIGHT_ONLY_CUDA_DISPATCHERS(<the arguments of
// W4A16_SM90_GEMV_DETAILS>)). kernel_launcher() from the same header is NOT called: it names the
// dispatchers of every data type, and only the FP16 x INT4 groupwise one is built.
//
// Why the GEMV can share gemm()'s preprocessed weights, scales and zeros (checked against the upstream
// sources; the static_asserts below pin the parts that the build's Details could change):
//   - preprocess_weights_for_mixed_gemm (cutlass_preprocessors.cpp) on SM 90: LayoutDetailsB<half_t,
//     uint4b_t, Sm90> (mixed_gemm_B_layout.h) is plain ColumnMajor with Operator OpMultiplyAdd, so no
//     row permutation (uses_imma_ldsm false), no column interleave, and no +8 bias / nibble interleave
//     (that step runs for 70 <= arch < 90 only): the output is the signed int4 matrix transposed to
//     [n, k], packed two per byte along k, even k in the low nibble (subbyte_transpose).
//   - The GEMV with Layout ColumnMajor (details.h: kInterleave 1, Mapper identity, AccessTypeW int)
//     reads column n, row kk at byte (n * k + kk) / 2 (kernel.h: weight_iterator offset
//     interleaved_offset_n * k + tid * StepK, stride k per column, in nibbles) and converts with
//     I2FConverter<half, 4, false> = cutlass::NumericArrayConverter<half_t, int4b_t, 8> (converter.h):
//     signed int4, element i in bits 4i..4i+3, exact. The same bytes as the CUTLASS SM90 path.
//   - scales / zeros: [k / GroupSize, n] row-major (kernel.h scales_iterator / zeros_iterator), bias [n].
//   - dequantize (utility.h): w = fma2(q, scale, zero) = q * scale + zero in FP16: zero added after
//     scaling, like FINEGRAINED_SCALE_AND_ZEROS in the CUTLASS path.
//   - accumulation: tile_acc is FP16 (mma() = hfma2 per thread), then warp/shared reduction in FP32,
//     epilogue out = half(alpha * acc + bias) in FP32 (alpha = 1 here).
//   - TensorRT-LLM's own WeightOnlyGroupwiseQuantMatmulPlugin passes the same weight, scales, zeros
//     and bias pointers to both paths (GEMV for m < SMALL_M_FAST_PATH = 5).
#include "w4a16_sm90/w4a16_sm90.h"

#include "w4a16_sm90/config.h"
#include "vendor_slim/tactics.h"

#if !defined(W4A16_SM90_HAS_PER_COLUMN) || !defined(W4A16_SM90_HAS_FINEGRAINED)                                        \
    || !defined(W4A16_SM90_HAS_FINEGRAINED_ZEROS)
#error "w4a16_sm90/config.h must define W4A16_SM90_HAS_PER_COLUMN, _FINEGRAINED and _FINEGRAINED_ZEROS (0 or 1)"
#endif
#if !defined(W4A16_SM90_HAS_GEMV)
#error "w4a16_sm90/config.h must define W4A16_SM90_HAS_GEMV (0 or 1)"
#endif
#if W4A16_SM90_HAS_GEMV                                                                                                \
    && (!defined(W4A16_SM90_GEMV_MAX_M) || !defined(W4A16_SM90_GEMV_KERNEL_TYPE) || !defined(W4A16_SM90_GEMV_DETAILS))
#error "w4a16_sm90/config.h: W4A16_SM90_HAS_GEMV needs W4A16_SM90_GEMV_MAX_M, _GEMV_KERNEL_TYPE and _GEMV_DETAILS"
#endif

// CUDA 13 deprecates long4 & co., which CUTLASS's platform.h still names; nothing to fix on our side.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
#include "cutlass/numeric_types.h"
#include "tensorrt_llm/common/logger.h"
#include "tensorrt_llm/kernels/cutlass_kernels/cutlass_preprocessors.h"
#include "tensorrt_llm/kernels/cutlass_kernels/fpA_intB_gemm/fpA_intB_gemm.h"
#include "w4a16_sm90/upstream_tables.h"
#if W4A16_SM90_HAS_GEMV
#include "tensorrt_llm/kernels/weightOnlyBatchedGemv/kernelLauncher.h"
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

namespace w4a16_sm90
{
namespace
{

namespace tlc = tensorrt_llm::common;
namespace tkk = tensorrt_llm::kernels::cutlass_kernels;
namespace tkc = tensorrt_llm::cutlass_extensions;
using GemmConfig = tkc::CutlassGemmConfig;

#if W4A16_SM90_HAS_GEMV
namespace two = tensorrt_llm::kernels::weight_only;
using GemvDetails = W4A16_SM90_GEMV_DETAILS;
constexpr two::KernelType kGemvKernelType = W4A16_SM90_GEMV_KERNEL_TYPE;
constexpr int kGemvMaxM = W4A16_SM90_GEMV_MAX_M;
static_assert(kGemvMaxM >= 1, "W4A16_SM90_GEMV_MAX_M must be >= 1");
static_assert(two::kernel_type_traits<kGemvKernelType>::isGroupwise && two::kernel_type_traits<kGemvKernelType>::isInt4,
    "the GEMV kernel type must be an int4 groupwise one");
static_assert(
    std::is_same_v<typename GemvDetails::TypeDetailsA, two::FP16DetailsA>, "the GEMV must take FP16 activations");
static_assert(GemvDetails::TypeDetailsW::kElemBits == 4, "the GEMV must take int4 weights");
// The SM 9.0 weight layout (column-major [n, k], no interleave, signed nibbles): only this variant
// reads what preprocess_weights() writes on SM 9.0.
static_assert(GemvDetails::kInterleave == 1 && !GemvDetails::kUseInterleavedConverter,
    "the GEMV must be the ColumnMajor, non-interleaved-converter variant (the SM 9.0 weight layout)");
#if defined(W4A16_SM90_GEMV_GROUP_SIZES)
constexpr int kGemvGroupSizes[] = {W4A16_SM90_GEMV_GROUP_SIZES};
#else
constexpr int kGemvGroupSizes[] = {64, 128}; // the cases of select_gs<true, ...> in kernelDispatcher.h
#endif
#endif

bool gemv_group_size_ok(int gs)
{
#if W4A16_SM90_HAS_GEMV
    for (int g : kGemvGroupSizes)
    {
        if (g == gs)
        {
            return true;
        }
    }
#else
    (void) gs;
#endif
    return false;
}

// TensorRT-LLM's logger is thread_local: quiet it once per calling thread.
void quiet_logger()
{
    thread_local bool done = false;
    if (!done)
    {
        done = true;
        if (std::getenv("TLLM_LOG_LEVEL") == nullptr)
        {
            tlc::Logger::getLogger()->setLevel(tlc::Logger::WARNING);
        }
    }
}

void check_cuda(cudaError_t err, char const* what)
{
    if (err != cudaSuccess)
    {
        throw std::runtime_error(std::string("w4a16_sm90: ") + what + ": " + cudaGetErrorString(err));
    }
}

void require_sm90()
{
    int dev = 0, major = 0, minor = 0;
    check_cuda(cudaGetDevice(&dev), "cudaGetDevice");
    check_cuda(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev), "cudaDeviceGetAttribute");
    check_cuda(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev), "cudaDeviceGetAttribute");
    if (major != 9 || minor != 0)
    {
        throw std::runtime_error("w4a16_sm90: CUDA device " + std::to_string(dev) + " has compute capability "
            + std::to_string(major) + "." + std::to_string(minor) + "; these kernels need 9.0 (Hopper)");
    }
}

void require(bool ok, std::string const& msg)
{
    if (!ok)
    {
        throw std::invalid_argument("w4a16_sm90: " + msg);
    }
}

char const* op_name(QuantOp op)
{
    switch (op)
    {
    case QuantOp::PerColumn: return "PerColumn";
    case QuantOp::Finegrained: return "Finegrained";
    case QuantOp::FinegrainedZeros: return "FinegrainedZeros";
    }
    return "(invalid QuantOp)";
}

// One runner per op, created on first use and deliberately never destroyed (its destructor logs
// through a thread_local logger, which may already be gone during static destruction).
struct Entry
{
    tkk::CutlassFpAIntBGemmRunnerInterface* runner;
    std::vector<GemmConfig> configs;
};

template <cutlass::WeightOnlyQuantOp Q>
Entry* make_entry()
{
    auto* runner = new tkk::CutlassFpAIntBGemmRunner<half, cutlass::uint4b_t, Q>();
    auto* entry = new Entry{runner, runner->getConfigs()};
    if (entry->configs.empty())
    {
        throw std::runtime_error("w4a16_sm90: the runner reports no kernel configurations");
    }
    return entry;
}

Entry const& entry(QuantOp op)
{
    quiet_logger();
    if (!is_compiled(op))
    {
        throw std::invalid_argument(
            std::string("w4a16_sm90: quant op ") + op_name(op) + " is not compiled into this build");
    }
    require_sm90();
    switch (op)
    {
#if W4A16_SM90_HAS_PER_COLUMN
    case QuantOp::PerColumn:
    {
        static Entry* e = make_entry<cutlass::WeightOnlyQuantOp::PER_COLUMN_SCALE_ONLY>();
        return *e;
    }
#endif
#if W4A16_SM90_HAS_FINEGRAINED
    case QuantOp::Finegrained:
    {
        static Entry* e = make_entry<cutlass::WeightOnlyQuantOp::FINEGRAINED_SCALE_ONLY>();
        return *e;
    }
#endif
#if W4A16_SM90_HAS_FINEGRAINED_ZEROS
    case QuantOp::FinegrainedZeros:
    {
        static Entry* e = make_entry<cutlass::WeightOnlyQuantOp::FINEGRAINED_SCALE_AND_ZEROS>();
        return *e;
    }
#endif
    default: break;
    }
    throw std::logic_error("w4a16_sm90: unreachable: no runner for a compiled op");
}

// Tile and cluster extents come from w4a16_sm90/upstream_tables.h, generated from the tree's own
// declarations: this file names no tile or cluster enumerator, so it compiles against any vintage.
// Tile extents: first along n, second along m (upstream swaps A and B on Hopper); K in bytes.
upstream::Shape<tkc::CutlassTileConfigSM90> const* tile_shape(tkc::CutlassTileConfigSM90 t)
{
    for (auto const& s : upstream::kCutlassTileConfigSM90Shapes)
    {
        if (s.id == t)
        {
            return &s;
        }
    }
    return nullptr;
}

std::string cluster_str(tkc::ClusterShape c)
{
    for (auto const& s : upstream::kClusterShapeShapes)
    {
        if (s.id == c)
        {
            return std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k);
        }
    }
    return "?";
}

template <typename E, size_t N>
char const* enum_name(std::array<upstream::Named<E>, N> const& names, E v)
{
    for (auto const& e : names)
    {
        if (e.id == v)
        {
            return e.name;
        }
    }
    return "?";
}

std::string describe(GemmConfig const& c)
{
    if (!upstream::is_sm90(c)) // not produced on SM 9.0; print the pre-Hopper fields
    {
        return std::string("pre-sm90 tile_config=") + enum_name(upstream::kCutlassTileConfigNames, upstream::tile_config_sm80(c))
            + " split_k_style=" + enum_name(upstream::kSplitKStyleNames, c.split_k_style)
            + " split_k=" + std::to_string(c.split_k_factor) + " stages=" + std::to_string(c.stages);
    }
    auto const* shape = tile_shape(c.tile_config_sm90);
    if (shape == nullptr)
    {
        return std::string("sm90 tile_config_sm90=") + enum_name(upstream::kCutlassTileConfigSM90Names, c.tile_config_sm90);
    }
    int const tn = shape->m, tm = shape->n;
    int const tk = shape->k_bytes ? shape->k / static_cast<int>(sizeof(half)) : shape->k;
    // AUTO schedules: fpA_intB_gemm_template_sm90.h resolves them by the first tile extent:
    // 64 -> ping-pong + TmaWarpSpecialized, else cooperative + TmaWarpSpecializedCooperative.
    bool const auto_sched = c.mainloop_schedule == tkc::MainloopScheduleType::AUTO
        && c.epilogue_schedule == tkc::EpilogueScheduleType::AUTO;
    std::string sched = !auto_sched
        ? std::string("mainloop=") + enum_name(upstream::kMainloopScheduleTypeNames, c.mainloop_schedule)
            + " epilogue=" + enum_name(upstream::kEpilogueScheduleTypeNames, c.epilogue_schedule)
        : tn == 64 ? "mainloop=pingpong epilogue=tma_ws"
                   : "mainloop=cooperative epilogue=tma_ws_cooperative";
    std::string name = "tile(n,m,k)=" + std::to_string(tn) + "x" + std::to_string(tm) + "x" + std::to_string(tk)
        + " cluster(n,m,k)=" + cluster_str(c.cluster_shape) + " " + sched + " stages=auto";
    if (c.split_k_style != tkc::SplitKStyle::NO_SPLIT_K)
    {
        name += " split_k=" + std::to_string(c.split_k_factor);
    }
    return name + " [" + shape->name + "]";
}

int default_config(std::vector<GemmConfig> const& configs, int m)
{
    // the smallest ping-pong tile that covers m, else 128x128; 128-byte K, no cluster
    int const want_n = m <= 64 ? 64 : 128;
    int const want_m = m <= 16 ? 16 : m <= 32 ? 32 : m <= 64 ? 64 : 128;
    for (size_t i = 0; i < configs.size(); ++i)
    {
        auto const* shape = upstream::is_sm90(configs[i]) ? tile_shape(configs[i].tile_config_sm90) : nullptr;
        if (shape != nullptr && shape->m == want_n && shape->n == want_m && shape->k == 128 && shape->k_bytes
            && cluster_str(configs[i].cluster_shape) == "1x1x1")
        {
            return static_cast<int>(i);
        }
    }
    return 0;
}

bool aligned16(void const* p)
{
    return reinterpret_cast<std::uintptr_t>(p) % 16 == 0;
}

__global__ void add_bias_rows(half* C, half const* bias, long long total, int n)
{
    long long const stride = static_cast<long long>(gridDim.x) * blockDim.x;
    for (long long i = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += stride)
    {
        C[i] = __float2half_rn(__half2float(C[i]) + __half2float(bias[i % n]));
    }
}

// Evicts the operands from L2 by streaming a 2x-L2 buffer through it with loads only: a memset
// leaves dirty lines whose write-back then competes with a bandwidth-bound kernel (it made the
// profiling pass pick CUTLASS over a faster GEMV at M=4 on an H100).
__global__ void l2_evict_kernel(uint4 const* buf, size_t n, unsigned* sink)
{
    unsigned acc = 0;
    for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
    {
        uint4 const v = buf[i];
        acc ^= v.x ^ v.y ^ v.z ^ v.w;
    }
    if (acc == 0x9e3779b9u) // practically never: keeps the loads alive
    {
        *sink = acc;
    }
}

__global__ void spin_kernel(unsigned long long ns)
{
    unsigned long long start = 0, now = 0;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(start));
    do
    {
        __nanosleep(1000);
        asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(now));
    } while (now - start < ns);
}

// ---------------------------------------------------------------------------------------------------
// CUTLASS path

[[noreturn]] void throw_arg_error(char const* fn, QuantOp op, char const* err, int m, int n, int k, int group_size,
    std::string const& extra)
{
    throw std::invalid_argument(std::string("w4a16_sm90: ") + fn + "(" + op_name(op) + "): " + err + " (m="
        + std::to_string(m) + ", n=" + std::to_string(n) + ", k=" + std::to_string(k)
        + ", group_size=" + std::to_string(group_size) + extra + ")");
}

// Checks gemm()'s requirements; the message is only built on failure (this runs on every call).
void validate_gemm(char const* fn, Entry const& e, QuantOp op, __half const* A, void const* B_preprocessed,
    __half const* scales, __half const* zeros, __half const* bias, __half const* C, int m, int n, int k, int group_size,
    void const* workspace, size_t workspace_bytes, int config_index)
{
    int const nconf = static_cast<int>(e.configs.size());
    size_t const need = m > 0 ? e.runner->getWorkspaceSize(m, n, k) : 0;
    char const* err = nullptr;
    if (m < 0 || n <= 0 || k <= 0 || n % 64 != 0 || k % 64 != 0)
        err = "need m >= 0 and n, k positive multiples of 64";
    else if (!A || !B_preprocessed || !scales || !C)
        err = "A, B, scales and C must not be null";
    else if (!aligned16(A) || !aligned16(B_preprocessed) || !aligned16(scales) || !aligned16(C) || !aligned16(zeros)
        || !aligned16(bias))
        err = "all buffers must be 16-byte aligned";
    else if (op == QuantOp::PerColumn && group_size != k && group_size != 0)
        err = "PerColumn needs group_size == k (or 0)";
    else if (op == QuantOp::PerColumn && zeros != nullptr)
        err = "zeros must be null for PerColumn";
    else if (op != QuantOp::PerColumn && (group_size <= 0 || group_size % 64 != 0 || k % group_size != 0))
        err = "group_size must be a positive multiple of 64 that divides k";
    else if (op != QuantOp::PerColumn && (zeros != nullptr) != (op == QuantOp::FinegrainedZeros))
        err = "zeros must be given for FinegrainedZeros and null for Finegrained";
    else if (config_index < -1 || config_index >= nconf)
        err = "config_index out of range";
    else if (workspace_bytes < need || (need > 0 && workspace == nullptr))
        err = "workspace too small (see workspace_size())";
    if (err != nullptr)
    {
        throw_arg_error(fn, op, err, m, n, k, group_size,
            ", config_index=" + std::to_string(config_index) + " of " + std::to_string(nconf)
                + ", workspace_bytes=" + std::to_string(workspace_bytes) + " of " + std::to_string(need) + " needed");
    }
}

// Runs config `config_index` (-1: default by m); arguments already validated.
void launch_gemm(Entry const& e, QuantOp op, __half const* A, void const* B_preprocessed, __half const* scales,
    __half const* zeros, __half const* bias, __half* C, int m, int n, int k, int group_size, void* workspace,
    size_t workspace_bytes, cudaStream_t stream, int config_index)
{
    if (m == 0)
    {
        return;
    }
    GemmConfig const& config = e.configs[config_index < 0 ? default_config(e.configs, m) : config_index];
    char* ws = static_cast<char*>(workspace);
    if (op == QuantOp::PerColumn)
    {
        e.runner->gemm(A, B_preprocessed, scales, C, m, n, k, config, ws, workspace_bytes, stream);
        if (bias != nullptr)
        {
            long long const total = static_cast<long long>(m) * n;
            int const blocks = static_cast<int>(std::min<long long>((total + 255) / 256, 8192));
            add_bias_rows<<<blocks, 256, 0, stream>>>(C, bias, total, n);
            check_cuda(cudaGetLastError(), "bias kernel launch");
        }
    }
    else
    {
        e.runner->gemm(
            A, B_preprocessed, scales, zeros, bias, C, m, n, k, group_size, config, ws, workspace_bytes, stream);
    }
}

// ---------------------------------------------------------------------------------------------------
// GEMV path

// Whether the GEMV can run this problem (assumes the gemm() requirements on n, k hold).
bool gemv_shape_ok(QuantOp op, int m, int n, int k, int group_size)
{
    return W4A16_SM90_HAS_GEMV && op != QuantOp::PerColumn && m >= 1 && m <= gemv_max_m()
        && gemv_group_size_ok(group_size) && k % group_size == 0
        && static_cast<long long>(n) * k <= static_cast<long long>(INT_MAX);
}

void validate_gemv(char const* fn, QuantOp op, __half const* A, void const* B_preprocessed, __half const* scales,
    __half const* zeros, __half const* bias, __half const* C, int m, int n, int k, int group_size)
{
    char const* err = nullptr;
    if (!W4A16_SM90_HAS_GEMV)
        err = "the GEMV is not compiled into this build (has_gemv() is false)";
    else if (op == QuantOp::PerColumn)
        err = "the GEMV (KernelType FP16Int4Groupwise) is groupwise only; PerColumn is not supported";
    else if (op != QuantOp::Finegrained && op != QuantOp::FinegrainedZeros)
        err = "invalid QuantOp";
    else if (m < 0 || m > gemv_max_m())
        err = "the GEMV needs 0 <= m <= gemv_max_m()";
    else if (n <= 0 || k <= 0 || n % 64 != 0 || k % 64 != 0)
        err = "need n, k positive multiples of 64";
    else if (static_cast<long long>(n) * k > static_cast<long long>(INT_MAX))
        err = "the GEMV needs n * k < 2^31 (32-bit offsets)";
    else if (!gemv_group_size_ok(group_size) || k % group_size != 0)
        err = "the GEMV needs group_size 64 or 128, dividing k";
    else if (!A || !B_preprocessed || !scales || !C)
        err = "A, B, scales and C must not be null";
    else if (!aligned16(A) || !aligned16(B_preprocessed) || !aligned16(scales) || !aligned16(C) || !aligned16(zeros)
        || !aligned16(bias))
        err = "all buffers must be 16-byte aligned";
    else if ((zeros != nullptr) != (op == QuantOp::FinegrainedZeros))
        err = "zeros must be given for FinegrainedZeros and null for Finegrained";
    if (err != nullptr)
    {
        throw_arg_error(fn, op, err, m, n, k, group_size, ", gemv_max_m=" + std::to_string(gemv_max_m()));
    }
}

// Arguments already validated.
void launch_gemv(__half const* A, void const* B_preprocessed, __half const* scales, __half const* zeros,
    __half const* bias, __half* C, int m, int n, int k, int group_size, cudaStream_t stream)
{
#if W4A16_SM90_HAS_GEMV
    if (m == 0)
    {
        return;
    }
    // act_scale (AWQ pre-quant scale) null, alpha 1 and not applied in advance (FP8 activations only).
    two::Params params(A, nullptr, B_preprocessed, scales, zeros, bias, C, 1.f, m, n, k, group_size, kGemvKernelType,
        /*apply_alpha_in_advance=*/false);
    two::select_gs<true, GemvDetails>(params, stream);
    check_cuda(cudaGetLastError(), "GEMV kernel launch");
#else
    (void) A, (void) B_preprocessed, (void) scales, (void) zeros, (void) bias, (void) C, (void) m, (void) n, (void) k,
        (void) group_size, (void) stream;
    throw std::logic_error("w4a16_sm90: unreachable: GEMV launch without the GEMV");
#endif
}

// ---------------------------------------------------------------------------------------------------
// gemm_auto: per-shape choice, profiled once

struct AutoKey
{
    int device, op, m, n, k, group_size;
    bool bias;

    bool operator<(AutoKey const& o) const
    {
        return std::tie(device, op, m, n, k, group_size, bias)
            < std::tie(o.device, o.op, o.m, o.n, o.k, o.group_size, o.bias);
    }
};

struct AutoChoice
{
    int best_config;     // fastest CUTLASS config
    double best_us;      // its median time
    double gemv_us;      // the GEMV's median time; NaN when not eligible or it failed
    bool gemv_fastest;   // the GEMV beat every CUTLASS config
};

struct AutoCache
{
    std::mutex mutex; // guards map
    std::map<AutoKey, AutoChoice> map;
    std::mutex profile_mutex; // serializes profiling passes
};

AutoCache& auto_cache()
{
    static AutoCache* c = new AutoCache(); // never destroyed (may be used from other static destructors)
    return *c;
}

bool cache_lookup(AutoKey const& key, AutoChoice& out)
{
    AutoCache& c = auto_cache();
    std::lock_guard<std::mutex> lock(c.mutex);
    auto it = c.map.find(key);
    if (it == c.map.end())
    {
        return false;
    }
    out = it->second;
    return true;
}

int read_env_override()
{
    char const* v = std::getenv("W4A16_SM90_GEMV_MAX_M");
    if (v == nullptr || *v == '\0')
    {
        return -1;
    }
    char* end = nullptr;
    long const x = std::strtol(v, &end, 10);
    if (end == v || *end != '\0' || x < -1 || x > INT_MAX)
    {
        std::fprintf(stderr, "w4a16_sm90: ignoring W4A16_SM90_GEMV_MAX_M=\"%s\" (want an integer >= -1)\n", v);
        return -1;
    }
    return static_cast<int>(x);
}

std::atomic<int>& gemv_override()
{
    static std::atomic<int> v{read_env_override()};
    return v;
}

int current_device()
{
    int dev = 0;
    check_cuda(cudaGetDevice(&dev), "cudaGetDevice");
    return dev;
}

// -1 GEMV, >= 0 CUTLASS config, -2 not profiled (and the override does not force the GEMV).
int decide(bool gemv_ok, int m, int override_t, AutoChoice const* c)
{
    if (gemv_ok && override_t > 0 && m <= override_t)
    {
        return -1;
    }
    if (c == nullptr)
    {
        return -2;
    }
    if (override_t >= 0)
    {
        return c->best_config >= 0 ? c->best_config : -2; // a loaded GEMV choice names no CUTLASS config
    }
    return c->gemv_fastest ? -1 : c->best_config;
}

// Times launches on one stream: median of single-launch event pairs, each launch after an L2 flush,
// the GPU held by a spin kernel while the launches are queued.
class Profiler
{
public:
    static constexpr int kMaxReps = 10;

    explicit Profiler(cudaStream_t s)
        : stream_(s)
    {
        for (auto& e : events_)
        {
            check_cuda(cudaEventCreate(&e), "cudaEventCreate");
        }
        int l2 = 0;
        if (cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, current_device()) == cudaSuccess && l2 > 0)
        {
            if (cudaMalloc(&flush_, 2 * static_cast<size_t>(l2) + 16) == cudaSuccess)
            {
                flush_bytes_ = 2 * static_cast<size_t>(l2);
                check_cuda(cudaMemsetAsync(flush_, 0, flush_bytes_ + 16, stream_), "L2 eviction buffer");
            }
            else
            {
                flush_ = nullptr;
                (void) cudaGetLastError(); // out of memory: time on a warm L2 instead
            }
        }
    }

    Profiler(Profiler const&) = delete;
    Profiler& operator=(Profiler const&) = delete;

    ~Profiler()
    {
        (void) cudaStreamSynchronize(stream_);
        for (auto& e : events_)
        {
            if (e != nullptr)
            {
                (void) cudaEventDestroy(e);
            }
        }
        if (flush_ != nullptr)
        {
            (void) cudaFree(flush_);
        }
    }

    // Median time of one launch in microseconds. Exceptions of launch() propagate (the stream is
    // synchronized first).
    double median_us(std::function<void()> const& launch)
    {
        try
        {
            launch(); // first launch: lazy module loading, one-time setup
            check_cuda(cudaStreamSynchronize(stream_), "profiling warm-up");
            auto const h0 = std::chrono::steady_clock::now();
            check_cuda(cudaEventRecord(events_[0], stream_), "cudaEventRecord");
            launch();
            check_cuda(cudaEventRecord(events_[1], stream_), "cudaEventRecord");
            auto const h1 = std::chrono::steady_clock::now();
            check_cuda(cudaStreamSynchronize(stream_), "profiling warm-up");
            float ms = 0.f;
            check_cuda(cudaEventElapsedTime(&ms, events_[0], events_[1]), "cudaEventElapsedTime");
            double const est_us = 1e3 * ms;
            double const host_us = std::chrono::duration<double, std::micro>(h1 - h0).count();
            int const reps = est_us < 50.0 ? kMaxReps : est_us < 500.0 ? 6 : 3;

            // Hold the GPU while the timed launches are queued (host time per launch + flush + events).
            double const spin_us = std::min(2.0 * (host_us + 10.0) * reps + 20.0, 50000.0);
            spin_kernel<<<1, 1, 0, stream_>>>(static_cast<unsigned long long>(spin_us * 1e3));
            check_cuda(cudaGetLastError(), "spin kernel launch");
            for (int r = 0; r < reps; ++r)
            {
                if (flush_ != nullptr)
                {
                    l2_evict_kernel<<<1024, 256, 0, stream_>>>(static_cast<uint4 const*>(flush_),
                        flush_bytes_ / sizeof(uint4), reinterpret_cast<unsigned*>(static_cast<char*>(flush_) + flush_bytes_));
                    check_cuda(cudaGetLastError(), "L2 eviction");
                }
                check_cuda(cudaEventRecord(events_[2 * r], stream_), "cudaEventRecord");
                launch();
                check_cuda(cudaEventRecord(events_[2 * r + 1], stream_), "cudaEventRecord");
            }
            check_cuda(cudaStreamSynchronize(stream_), "profiling");
            std::vector<double> t(reps);
            for (int r = 0; r < reps; ++r)
            {
                check_cuda(cudaEventElapsedTime(&ms, events_[2 * r], events_[2 * r + 1]), "cudaEventElapsedTime");
                t[r] = 1e3 * ms;
            }
            std::sort(t.begin(), t.end());
            return reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
        }
        catch (...)
        {
            (void) cudaStreamSynchronize(stream_);
            throw;
        }
    }

private:
    cudaStream_t stream_;
    cudaEvent_t events_[2 * kMaxReps] = {};
    void* flush_ = nullptr;
    size_t flush_bytes_ = 0;
};

std::atomic<long long>& profiling_counter()
{
    static std::atomic<long long> n{0};
    return n;
}

// Profiles the shape (or returns the choice another thread made meanwhile) and caches the result.
// need_cutlass: a cached choice without a CUTLASS config (loaded from tactics: the GEMV) is not enough.
AutoChoice profile_shape(AutoKey const& key, bool need_cutlass, Entry const& e, QuantOp op, bool gemv_ok,
    __half const* A,
    void const* B_preprocessed, __half const* scales, __half const* zeros, __half const* bias, __half* C, int m, int n,
    int k, int group_size, void* workspace, size_t workspace_bytes, cudaStream_t stream)
{
    AutoCache& cache = auto_cache();
    std::lock_guard<std::mutex> plock(cache.profile_mutex);
    AutoChoice choice{};
    if (cache_lookup(key, choice) && (choice.best_config >= 0 || !need_cutlass))
    {
        return choice;
    }
    cudaStreamCaptureStatus cap = cudaStreamCaptureStatusNone;
    check_cuda(cudaStreamIsCapturing(stream, &cap), "cudaStreamIsCapturing");
    if (cap != cudaStreamCaptureStatusNone)
    {
        throw std::runtime_error(std::string("w4a16_sm90: gemm_auto(") + op_name(op)
            + "): the first call for a shape profiles and cannot run during CUDA graph capture; call gemm_auto() once "
              "for this shape before capturing (m="
            + std::to_string(m) + ", n=" + std::to_string(n) + ", k=" + std::to_string(k) + ")");
    }

    profiling_counter().fetch_add(1);
    Profiler prof(stream);
    choice.best_config = -1;
    choice.best_us = INFINITY;
    choice.gemv_us = NAN;
    choice.gemv_fastest = false;
    std::string failures;
    // Candidates: every CUTLASS config (id >= 0) and the GEMV (id -1) where it applies.
    std::vector<int> ids;
    int const nconf = static_cast<int>(e.configs.size());
    for (int ci = 0; ci < nconf; ++ci)
    {
        ids.push_back(ci);
    }
    if (gemv_ok)
    {
        ids.push_back(-1);
    }
    auto launch_id = [&](int id)
    {
        if (id < 0)
        {
            launch_gemv(A, B_preprocessed, scales, zeros, bias, C, m, n, k, group_size, stream);
        }
        else
        {
            launch_gemm(e, op, A, B_preprocessed, scales, zeros, bias, C, m, n, k, group_size, workspace,
                workspace_bytes, stream, id);
        }
    };
    // Round 1: one median per candidate. Round 2: the candidates within 15 % of the best are timed
    // again, interleaved, three more times; each keeps the median of its four medians. A single
    // short round picks the wrong one of near-equal candidates too often (measured on H100).
    std::map<int, std::vector<double>> times;
    for (int id : ids)
    {
        try
        {
            times[id].push_back(prof.median_us([&] { launch_id(id); }));
        }
        catch (std::exception const& ex)
        {
            (void) cudaGetLastError();
            failures += (id < 0 ? std::string(" gemv: ") : " config " + std::to_string(id) + ": ") + ex.what() + ";";
        }
    }
    double first_best = INFINITY;
    for (auto const& [id, t] : times)
    {
        first_best = std::min(first_best, t[0]);
    }
    std::vector<int> finalists;
    for (auto const& [id, t] : times)
    {
        if (t[0] <= 1.15 * first_best)
        {
            finalists.push_back(id);
        }
    }
    for (int round = 0; round < 3 && finalists.size() > 1; ++round)
    {
        for (int id : finalists)
        {
            times[id].push_back(prof.median_us([&] { launch_id(id); }));
        }
    }
    for (auto& [id, t] : times)
    {
        std::sort(t.begin(), t.end());
        double const med = t.size() % 2 ? t[t.size() / 2] : 0.5 * (t[t.size() / 2 - 1] + t[t.size() / 2]);
        bool const finalist = std::find(finalists.begin(), finalists.end(), id) != finalists.end();
        double const score = finalist ? med : t[0] * 1e6; // non-finalists only count when alone
        if (id < 0)
        {
            choice.gemv_us = med;
        }
        else if (score < choice.best_us)
        {
            choice.best_us = score;
            choice.best_config = id;
        }
    }
    if (choice.best_config < 0)
    {
        throw std::runtime_error(std::string("w4a16_sm90: gemm_auto(") + op_name(op) + "): no CUTLASS config ran (m="
            + std::to_string(m) + ", n=" + std::to_string(n) + ", k=" + std::to_string(k) + "):" + failures);
    }
    if (times.count(choice.best_config) && std::find(finalists.begin(), finalists.end(), choice.best_config)
        == finalists.end())
    {
        choice.best_us = times[choice.best_config][0]; // the best CUTLASS config was no finalist: its own time
    }
    if (gemv_ok && times.count(-1))
    {
        choice.gemv_fastest
            = std::find(finalists.begin(), finalists.end(), -1) != finalists.end() && choice.gemv_us < choice.best_us;
    }
    std::lock_guard<std::mutex> lock(cache.mutex);
    cache.map[key] = choice; // may replace a loaded GEMV-only choice
    return choice;
}

// ---------------------------------------------------------------------------------------------------
// Config names and tactics: the names list_configs() gives, the tactics file (vendor_slim/tactics.h)
// read into and written from gemm_auto()'s choice cache.

constexpr char kBackend[] = "trtllm";
constexpr char kGemvName[] = "gemv";

// The tactics file's QUANT field: the test program's --ops keys.
char const* op_key(QuantOp op)
{
    switch (op)
    {
    case QuantOp::PerColumn: return "pc";
    case QuantOp::Finegrained: return "fg";
    case QuantOp::FinegrainedZeros: return "fgz";
    }
    return "?";
}

bool op_from_key(std::string const& key, QuantOp& op)
{
    for (QuantOp o : {QuantOp::PerColumn, QuantOp::Finegrained, QuantOp::FinegrainedZeros})
    {
        if (key == op_key(o))
        {
            op = o;
            return true;
        }
    }
    return false;
}

// A config's name from its fields, so that it stays the same when the list is reordered or grows:
// sm90_t<n>x<m>x<k>_c<cluster n x m x k>_<pingpong|cooperative>[_sk<split>] (tile and cluster along n
// first, as in config_name(); K in elements).
std::string short_name(GemmConfig const& c, int index)
{
    auto const* shape = upstream::is_sm90(c) ? tile_shape(c.tile_config_sm90) : nullptr;
    if (shape == nullptr)
    {
        return "cfg" + std::to_string(index); // not produced on SM 9.0
    }
    int const tn = shape->m, tm = shape->n;
    int const tk = shape->k_bytes ? shape->k / static_cast<int>(sizeof(half)) : shape->k;
    bool const auto_sched = c.mainloop_schedule == tkc::MainloopScheduleType::AUTO
        && c.epilogue_schedule == tkc::EpilogueScheduleType::AUTO;
    std::string name = "sm90_t" + std::to_string(tn) + "x" + std::to_string(tm) + "x" + std::to_string(tk) + "_c"
        + cluster_str(c.cluster_shape) + "_"
        + (!auto_sched ? "sched" + std::to_string(index) : tn == 64 ? "pingpong" : "cooperative");
    if (c.split_k_style != tkc::SplitKStyle::NO_SPLIT_K)
    {
        name += "_sk" + std::to_string(c.split_k_factor);
    }
    return name;
}

// The CUTLASS configs' names in index order; a name that repeats gets _2, _3, ... (never seen on SM 9.0).
std::vector<std::string> cutlass_names(Entry const& e)
{
    std::vector<std::string> out;
    std::map<std::string, int> seen;
    for (size_t i = 0; i < e.configs.size(); ++i)
    {
        std::string n = short_name(e.configs[i], static_cast<int>(i));
        int const times = ++seen[n];
        out.push_back(times == 1 ? n : n + "_" + std::to_string(times));
    }
    return out;
}

std::string device_gpu_key(int dev)
{
    cudaDeviceProp p{};
    check_cuda(cudaGetDeviceProperties(&p, dev), "cudaGetDeviceProperties");
    return vendor_slim::gpu_key(p.name, p.major, p.minor, p.multiProcessorCount);
}

// The cached choice as a tactics line (the GEMV when it won, else the best CUTLASS config).
bool choice_tactic(AutoKey const& key, AutoChoice const& c, std::string const& gpu, vendor_slim::Tactic& out)
{
    QuantOp const op = static_cast<QuantOp>(key.op);
    out.key.m = key.m, out.key.n = key.n, out.key.k = key.k, out.key.group = key.group_size;
    out.key.quant = op_key(op);
    out.key.gpu = gpu;
    out.key.backend = kBackend;
    if (c.gemv_fastest && std::isfinite(c.gemv_us) && c.gemv_us > 0)
    {
        out.config = kGemvName;
        out.us = c.gemv_us;
        return true;
    }
    if (c.best_config < 0 || !std::isfinite(c.best_us) || !(c.best_us > 0) || !is_compiled(op))
    {
        return false;
    }
    std::vector<std::string> const names = cutlass_names(entry(op));
    if (c.best_config >= static_cast<int>(names.size()))
    {
        return false;
    }
    out.config = names[c.best_config];
    out.us = c.best_us;
    return true;
}

} // namespace

bool is_compiled(QuantOp op)
{
    switch (op)
    {
    case QuantOp::PerColumn: return W4A16_SM90_HAS_PER_COLUMN != 0;
    case QuantOp::Finegrained: return W4A16_SM90_HAS_FINEGRAINED != 0;
    case QuantOp::FinegrainedZeros: return W4A16_SM90_HAS_FINEGRAINED_ZEROS != 0;
    }
    return false;
}

void preprocess_weights(int8_t* out, int8_t const* packed_int4_row_major, int k, int n)
{
    quiet_logger();
    require(out != nullptr && packed_int4_row_major != nullptr, "preprocess_weights: null pointer");
    require(k > 0 && n > 0 && k % 64 == 0 && n % 64 == 0,
        "preprocess_weights: k and n must be positive multiples of 64 (k=" + std::to_string(k)
            + ", n=" + std::to_string(n) + ")");
    require_sm90(); // upstream picks the layout from the current device's SM version
    tkk::preprocess_weights_for_mixed_gemm(
        out, packed_int4_row_major, {static_cast<size_t>(k), static_cast<size_t>(n)}, tkk::QuantType::W4_A16);
}

size_t workspace_size(QuantOp op, int m, int n, int k)
{
    Entry const& e = entry(op);
    require(m >= 0 && n >= 0 && k >= 0, "workspace_size: negative size");
    return e.runner->getWorkspaceSize(m, n, k);
}

int num_configs(QuantOp op)
{
    return static_cast<int>(entry(op).configs.size());
}

std::string config_name(QuantOp op, int index)
{
    Entry const& e = entry(op);
    require(index >= 0 && index < static_cast<int>(e.configs.size()),
        "config_name: index " + std::to_string(index) + " out of range");
    return describe(e.configs[index]);
}

void gemm(QuantOp op, __half const* A, void const* B_preprocessed, __half const* scales, __half const* zeros,
    __half const* bias, __half* C, int m, int n, int k, int group_size, void* workspace, size_t workspace_bytes,
    cudaStream_t stream, int config_index)
{
    Entry const& e = entry(op);
    validate_gemm("gemm", e, op, A, B_preprocessed, scales, zeros, bias, C, m, n, k, group_size, workspace,
        workspace_bytes, config_index);
    launch_gemm(
        e, op, A, B_preprocessed, scales, zeros, bias, C, m, n, k, group_size, workspace, workspace_bytes, stream,
        config_index);
}

bool has_gemv()
{
    return W4A16_SM90_HAS_GEMV != 0;
}

int gemv_max_m()
{
#if W4A16_SM90_HAS_GEMV
    return kGemvMaxM;
#else
    return 0;
#endif
}

void gemv(QuantOp op, __half const* A, void const* B_preprocessed, __half const* scales, __half const* zeros,
    __half const* bias, __half* C, int m, int n, int k, int group_size, void* workspace, size_t workspace_bytes,
    cudaStream_t stream)
{
    (void) workspace, (void) workspace_bytes; // the GEMV needs none
    quiet_logger();
    validate_gemv("gemv", op, A, B_preprocessed, scales, zeros, bias, C, m, n, k, group_size);
    require_sm90();
    launch_gemv(A, B_preprocessed, scales, zeros, bias, C, m, n, k, group_size, stream);
}

void gemm_auto(QuantOp op, __half const* A, void const* B_preprocessed, __half const* scales, __half const* zeros,
    __half const* bias, __half* C, int m, int n, int k, int group_size, void* workspace, size_t workspace_bytes,
    cudaStream_t stream)
{
    Entry const& e = entry(op);
    validate_gemm("gemm_auto", e, op, A, B_preprocessed, scales, zeros, bias, C, m, n, k, group_size, workspace,
        workspace_bytes, -1);
    if (m == 0)
    {
        return;
    }
    int const gs = op == QuantOp::PerColumn ? k : group_size;
    bool const gemv_ok = gemv_shape_ok(op, m, n, k, gs);
    int const override_t = gemv_override().load(std::memory_order_relaxed);
    int choice = decide(gemv_ok, m, override_t, nullptr);
    if (choice == -2)
    {
        AutoKey const key{current_device(), static_cast<int>(op), m, n, k, gs, bias != nullptr};
        AutoChoice c{};
        if (!cache_lookup(key, c) || decide(gemv_ok, m, override_t, &c) == -2)
        {
            c = profile_shape(key, override_t >= 0, e, op, gemv_ok, A, B_preprocessed, scales, zeros, bias, C, m, n,
                k, gs, workspace, workspace_bytes, stream);
        }
        choice = decide(gemv_ok, m, override_t, &c);
    }
    if (choice == -1)
    {
        launch_gemv(A, B_preprocessed, scales, zeros, bias, C, m, n, k, gs, stream);
    }
    else
    {
        launch_gemm(e, op, A, B_preprocessed, scales, zeros, bias, C, m, n, k, gs, workspace, workspace_bytes, stream,
            choice);
    }
}

void set_gemv_max_m(int t)
{
    if (t < -1)
    {
        throw std::invalid_argument("w4a16_sm90: set_gemv_max_m: need t >= -1 (got " + std::to_string(t) + ")");
    }
    gemv_override().store(t);
}

int gemv_max_m_override()
{
    return gemv_override().load();
}

int gemm_auto_config(QuantOp op, int m, int n, int k, int group_size, bool has_bias)
{
    if (!is_compiled(op))
    {
        throw std::invalid_argument(
            std::string("w4a16_sm90: quant op ") + op_name(op) + " is not compiled into this build");
    }
    int const gs = op == QuantOp::PerColumn && group_size == 0 ? k : group_size;
    bool const gemv_ok = n > 0 && k > 0 && gs > 0 && gemv_shape_ok(op, m, n, k, gs);
    int const override_t = gemv_override().load();
    int choice = decide(gemv_ok, m, override_t, nullptr);
    if (choice == -2)
    {
        AutoChoice c{};
        if (cache_lookup(AutoKey{current_device(), static_cast<int>(op), m, n, k, gs, has_bias}, c))
        {
            choice = decide(gemv_ok, m, override_t, &c);
        }
    }
    return choice;
}

std::string gemm_auto_choice(QuantOp op, int m, int n, int k, int group_size, bool has_bias)
{
    int const c = gemm_auto_config(op, m, n, k, group_size, has_bias);
    return c == -1 ? std::string("gemv") : c == -2 ? std::string() : config_name(op, c);
}

// ---------------------------------------------------------------------------------------------------
// Config names, named configs, tactics

std::vector<std::string> list_configs(QuantOp op)
{
    std::vector<std::string> out = cutlass_names(entry(op));
    if (has_gemv() && op != QuantOp::PerColumn)
    {
        out.push_back(kGemvName);
    }
    return out;
}

int config_index(QuantOp op, std::string const& name)
{
    if (name == kGemvName && has_gemv() && op != QuantOp::PerColumn)
    {
        return -1;
    }
    std::vector<std::string> const names = cutlass_names(entry(op));
    for (size_t i = 0; i < names.size(); ++i)
    {
        if (names[i] == name)
        {
            return static_cast<int>(i);
        }
    }
    throw std::invalid_argument(std::string("w4a16_sm90: no config named '") + name + "' for " + op_name(op)
        + " in this build (list_configs() gives the names)");
}

void run_config(QuantOp op, std::string const& config, __half const* A, void const* B_preprocessed,
    __half const* scales, __half const* zeros, __half const* bias, __half* C, int m, int n, int k, int group_size,
    void* workspace, size_t workspace_bytes, cudaStream_t stream)
{
    int const index = config_index(op, config);
    if (index < 0)
    {
        gemv(op, A, B_preprocessed, scales, zeros, bias, C, m, n, k, group_size, workspace, workspace_bytes, stream);
    }
    else
    {
        gemm(op, A, B_preprocessed, scales, zeros, bias, C, m, n, k, group_size, workspace, workspace_bytes, stream,
            index);
    }
}

std::string gpu_key()
{
    return device_gpu_key(current_device());
}

int load_tactics(std::string const& path)
{
    quiet_logger();
    int const dev = current_device();
    vendor_slim::Tactics table(device_gpu_key(dev));
    std::string warning;
    try
    {
        if (!table.load(path, &warning))
        {
            return 0;
        }
    }
    catch (vendor_slim::TacticsError const& e)
    {
        throw std::invalid_argument(std::string("w4a16_sm90: load_tactics: ") + e.what());
    }
    if (!warning.empty())
    {
        std::fprintf(stderr, "w4a16_sm90: warning: %s\n", warning.c_str());
    }
    int loaded = 0, unusable = 0;
    std::map<AutoKey, AutoChoice> got;
    for (vendor_slim::Tactic const& t : table.entries())
    {
        QuantOp op{};
        if (t.key.gpu != table.gpu() || t.key.backend != kBackend || !op_from_key(t.key.quant, op) || !is_compiled(op))
        {
            continue; // another GPU's, another backend's, or an op this build does not have
        }
        int const m = t.key.m, n = t.key.n, k = t.key.k, gs = t.key.group;
        AutoChoice c{-1, NAN, NAN, false};
        if (t.config == kGemvName)
        {
            c.gemv_us = t.us;
            c.gemv_fastest = true;
            if (!gemv_shape_ok(op, m, n, k, gs))
            {
                ++unusable;
                continue;
            }
        }
        else
        {
            std::vector<std::string> const names = cutlass_names(entry(op));
            auto const it = std::find(names.begin(), names.end(), t.config);
            if (it == names.end() || (op == QuantOp::PerColumn && gs != k))
            {
                ++unusable;
                continue;
            }
            c.best_config = static_cast<int>(it - names.begin());
            c.best_us = t.us;
        }
        for (bool bias : {false, true}) // the choice does not depend on the bias (see the header)
        {
            got[AutoKey{dev, static_cast<int>(op), m, n, k, gs, bias}] = c;
        }
        ++loaded;
    }
    if (unusable > 0)
    {
        std::fprintf(stderr,
            "w4a16_sm90: warning: %s: %d entr%s name a config or shape this build cannot run; gemm_auto() profiles "
            "those shapes again\n",
            path.c_str(), unusable, unusable == 1 ? "y" : "ies");
    }
    AutoCache& cache = auto_cache();
    std::lock_guard<std::mutex> lock(cache.mutex);
    for (auto const& [key, c] : got)
    {
        cache.map[key] = c;
    }
    return loaded;
}

int save_tactics(std::string const& path)
{
    quiet_logger();
    std::map<AutoKey, AutoChoice> snapshot;
    {
        AutoCache& cache = auto_cache();
        std::lock_guard<std::mutex> lock(cache.mutex);
        snapshot = cache.map;
    }
    vendor_slim::Tactics table; // every GPU: the file's other entries are kept as they are
    std::map<int, std::string> gpus;
    int written = 0;
    try
    {
        table.load(path);
        for (auto const& [key, c] : snapshot)
        {
            // bias true and false share one line; the no-bias choice comes first in the map order.
            vendor_slim::Tactic t;
            auto g = gpus.find(key.device);
            if (g == gpus.end())
            {
                g = gpus.emplace(key.device, device_gpu_key(key.device)).first;
            }
            AutoKey nobias = key;
            nobias.bias = false;
            if ((key.bias && snapshot.count(nobias)) || !choice_tactic(key, c, g->second, t))
            {
                continue;
            }
            table.put(t);
            ++written;
        }
        table.save(path);
    }
    catch (vendor_slim::TacticsError const& e)
    {
        throw std::runtime_error(std::string("w4a16_sm90: save_tactics: ") + e.what());
    }
    return written;
}

long long profiling_passes()
{
    return profiling_counter().load();
}
} // namespace w4a16_sm90
