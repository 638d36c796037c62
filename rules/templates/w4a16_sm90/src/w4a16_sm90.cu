// w4a16_sm90: implementation over TensorRT-LLM's CutlassFpAIntBGemmRunner<half, cutlass::uint4b_t, QuantOp>.
//
// Only the runner's declaration is included here. Its members are defined by the upstream runner TUs
// (fpA_intB_gemm/fp16_int4_gemm_{per_col,fg_scaleonly,fg_scalebias}.cu, each an explicit instantiation
// of the class), so a runner is referenced only for the ops that w4a16_sm90/config.h says are compiled.
#include "w4a16_sm90/w4a16_sm90.h"

#include "w4a16_sm90/config.h"

#if !defined(W4A16_SM90_HAS_PER_COLUMN) || !defined(W4A16_SM90_HAS_FINEGRAINED)                                        \
    || !defined(W4A16_SM90_HAS_FINEGRAINED_ZEROS)
#error "w4a16_sm90/config.h must define W4A16_SM90_HAS_PER_COLUMN, _FINEGRAINED and _FINEGRAINED_ZEROS (0 or 1)"
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
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace w4a16_sm90
{
namespace
{

namespace tlc = tensorrt_llm::common;
namespace tkk = tensorrt_llm::kernels::cutlass_kernels;
namespace tkc = tensorrt_llm::cutlass_extensions;
using GemmConfig = tkc::CutlassGemmConfig;

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

// Tile extents (first along n, second along m: upstream swaps A and B on Hopper); K tile is 128 bytes.
bool tile_nm(tkc::CutlassTileConfigSM90 t, int& tn, int& tm)
{
    using T = tkc::CutlassTileConfigSM90;
    switch (t)
    {
    case T::CtaShape64x16x128B: tn = 64, tm = 16; return true;
    case T::CtaShape64x32x128B: tn = 64, tm = 32; return true;
    case T::CtaShape64x64x128B: tn = 64, tm = 64; return true;
    case T::CtaShape64x128x128B: tn = 64, tm = 128; return true;
    case T::CtaShape64x256x128B: tn = 64, tm = 256; return true;
    case T::CtaShape128x16x128B: tn = 128, tm = 16; return true;
    case T::CtaShape128x32x128B: tn = 128, tm = 32; return true;
    case T::CtaShape128x64x128B: tn = 128, tm = 64; return true;
    case T::CtaShape128x128x128B: tn = 128, tm = 128; return true;
    case T::CtaShape128x256x128B: tn = 128, tm = 256; return true;
    case T::CtaShape256x128x128B: tn = 256, tm = 128; return true;
    default: return false;
    }
}

char const* cluster_str(tkc::ClusterShape c)
{
    using C = tkc::ClusterShape;
    switch (c)
    {
    case C::ClusterShape_1x1x1: return "1x1x1";
    case C::ClusterShape_2x1x1: return "2x1x1";
    case C::ClusterShape_1x2x1: return "1x2x1";
    case C::ClusterShape_2x2x1: return "2x2x1";
    case C::ClusterShape_1x8x1: return "1x8x1";
    case C::ClusterShape_8x1x1: return "8x1x1";
    }
    return "?";
}

std::string describe(GemmConfig const& c)
{
    if (!c.is_sm90) // not produced on SM 9.0; print the pre-Hopper fields
    {
        return "pre-sm90 tile_config=" + std::to_string(static_cast<int>(c.tile_config))
            + " split_k_style=" + std::to_string(static_cast<int>(c.split_k_style))
            + " split_k=" + std::to_string(c.split_k_factor) + " stages=" + std::to_string(c.stages);
    }
    int tn = 0, tm = 0;
    if (!tile_nm(c.tile_config_sm90, tn, tm))
    {
        return "sm90 tile_config_sm90=" + std::to_string(static_cast<int>(c.tile_config_sm90));
    }
    int const tk = 128 / static_cast<int>(sizeof(half));
    // MainloopScheduleType / EpilogueScheduleType only have AUTO; fpA_intB_gemm_template_sm90.h resolves it
    // by the first tile extent: 64 -> ping-pong + TmaWarpSpecialized, else cooperative + TmaWarpSpecializedCooperative.
    bool const auto_sched = c.mainloop_schedule == tkc::MainloopScheduleType::AUTO
        && c.epilogue_schedule == tkc::EpilogueScheduleType::AUTO;
    std::string sched = !auto_sched ? "mainloop=? epilogue=?"
        : tn == 64                  ? "mainloop=pingpong epilogue=tma_ws"
                                    : "mainloop=cooperative epilogue=tma_ws_cooperative";
    std::string name = "tile(n,m,k)=" + std::to_string(tn) + "x" + std::to_string(tm) + "x" + std::to_string(tk)
        + " cluster(n,m,k)=" + cluster_str(c.cluster_shape) + " " + sched + " stages=auto";
    if (c.split_k_style != tkc::SplitKStyle::NO_SPLIT_K)
    {
        name += " split_k=" + std::to_string(c.split_k_factor);
    }
    return name + " [CtaShape" + std::to_string(tn) + "x" + std::to_string(tm) + "x128B]";
}

int default_config(std::vector<GemmConfig> const& configs, int m)
{
    using T = tkc::CutlassTileConfigSM90;
    T const want = m <= 16 ? T::CtaShape64x16x128B
        : m <= 32          ? T::CtaShape64x32x128B
        : m <= 64          ? T::CtaShape64x64x128B
                           : T::CtaShape128x128x128B;
    for (size_t i = 0; i < configs.size(); ++i)
    {
        if (configs[i].is_sm90 && configs[i].tile_config_sm90 == want
            && configs[i].cluster_shape == tkc::ClusterShape::ClusterShape_1x1x1)
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
    int const nconf = static_cast<int>(e.configs.size());
    size_t const need = m > 0 ? e.runner->getWorkspaceSize(m, n, k) : 0;

    // Validate; the message is only built on failure (this runs on every call).
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
        throw std::invalid_argument(std::string("w4a16_sm90: gemm(") + op_name(op) + "): " + err
            + " (m=" + std::to_string(m) + ", n=" + std::to_string(n) + ", k=" + std::to_string(k)
            + ", group_size=" + std::to_string(group_size) + ", config_index=" + std::to_string(config_index) + " of "
            + std::to_string(nconf) + ", workspace_bytes=" + std::to_string(workspace_bytes) + " of "
            + std::to_string(need) + " needed)");
    }
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

} // namespace w4a16_sm90
