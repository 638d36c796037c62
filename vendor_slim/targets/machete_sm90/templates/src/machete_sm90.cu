// machete_sm90 public API (see include/machete_sm90/machete_sm90.h).
//
// Kernels run through the runners that machete_sm90_impl_tail.inc adds to the regrouped impl TUs
// (upstream kernel types on caller-owned buffers and stream); the heuristic is the generated
// dispatcher's, asked through machete_sm90_heuristic.cu; prepack and mm_upstream call vLLM's own
// launchers (prepack_B_dispatch, mm_dispatch_<TYPES>) on the caller's stream made PyTorch's current one.
#include "machete_sm90/machete_sm90.h"

#include "machete_sm90/config.h"
#include "machete_sm90_detail.h"
#include "vendor_slim/tactics.h"

#include <torch/all.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "machete_mm_launcher.cuh"
#include "machete_prepack_launcher.cuh"
#include "core/scalar_type.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

// Defined by the regrouped impl TUs (runners), the regrouped dispatch TU (upstream dispatchers)
// and machete_sm90_heuristic.cu (the heuristic probe).
namespace machete_sm90::detail
{
#define MACHETE_SM90_DECLARE_RUNNER(STYLE, TYPES, SCHEDULE)                                                    \
    void run_##TYPES##_##SCHEDULE(RunArgs const&);                                                             \
    std::size_t workspace_##TYPES##_##SCHEDULE(RunArgs const&);
MACHETE_SM90_IMPLS(MACHETE_SM90_DECLARE_RUNNER)
#undef MACHETE_SM90_DECLARE_RUNNER

#define MACHETE_SM90_DECLARE_HEURISTIC(STYLE, TYPES)                                                           \
    char const* heuristic_##STYLE(int64_t m, int64_t n, int64_t k, int64_t group_size);
MACHETE_SM90_STYLES(MACHETE_SM90_DECLARE_HEURISTIC)
#undef MACHETE_SM90_DECLARE_HEURISTIC
} // namespace machete_sm90::detail

namespace machete
{
#define MACHETE_SM90_DECLARE_DISPATCH(STYLE, TYPES) torch::Tensor mm_dispatch_##TYPES(MMArgs args);
MACHETE_SM90_STYLES(MACHETE_SM90_DECLARE_DISPATCH)
#undef MACHETE_SM90_DECLARE_DISPATCH
} // namespace machete

namespace machete_sm90
{
namespace
{

using detail::RunArgs;

struct Config
{
    QuantStyle style;
    char const* name;
    detail::RunFn run;
    detail::WorkspaceFn workspace;
};

struct StyleInfo
{
    QuantStyle style;
    vllm::ScalarType b_type;
    bool zeros;
    char const* (*heuristic)(int64_t, int64_t, int64_t, int64_t);
    torch::Tensor (*dispatch)(machete::MMArgs);
};

constexpr QuantStyle style_of(char const* s)
{
    return s[0] == 'g' ? QuantStyle::Gptq : QuantStyle::Awq;
}

std::vector<Config> const& configs()
{
    static std::vector<Config> const table = {
#define MACHETE_SM90_ROW(STYLE, TYPES, SCHEDULE)                                                               \
    Config{style_of(#STYLE), #SCHEDULE, &detail::run_##TYPES##_##SCHEDULE, &detail::workspace_##TYPES##_##SCHEDULE},
        MACHETE_SM90_IMPLS(MACHETE_SM90_ROW)
#undef MACHETE_SM90_ROW
    };
    return table;
}

std::vector<StyleInfo> const& styles()
{
    static std::vector<StyleInfo> const table = {
#define MACHETE_SM90_STYLE_ROW(STYLE, TYPES)                                                                   \
    StyleInfo{style_of(#STYLE), MACHETE_SM90_B_TYPE_##STYLE, MACHETE_SM90_ZEROS_##STYLE,                       \
        &detail::heuristic_##STYLE, &machete::mm_dispatch_##TYPES},
        MACHETE_SM90_STYLES(MACHETE_SM90_STYLE_ROW)
#undef MACHETE_SM90_STYLE_ROW
    };
    return table;
}

StyleInfo const& style_info(QuantStyle style)
{
    for (auto const& s : styles())
        if (s.style == style)
            return s;
    throw std::invalid_argument(std::string("machete_sm90: quant style ") + style_name(style)
        + " is not compiled into this build");
}

Config const& find_config(QuantStyle style, std::string const& name)
{
    for (auto const& c : configs())
        if (c.style == style && name == c.name)
            return c;
    throw std::invalid_argument("machete_sm90: no config '" + name + "' for style " + style_name(style)
        + " in this build (see list_configs)");
}

int current_device()
{
    int dev = 0;
    cudaError_t const e = cudaGetDevice(&dev);
    if (e != cudaSuccess)
        throw std::runtime_error(std::string("machete_sm90: cudaGetDevice: ") + cudaGetErrorString(e));
    return dev;
}

void cuda_ok(cudaError_t e, char const* what)
{
    if (e != cudaSuccess)
        throw std::runtime_error(std::string("machete_sm90: ") + what + ": " + cudaGetErrorString(e));
}

int64_t resolve_group(int k, int group_size)
{
    return group_size == -1 ? k : group_size;
}

// Argument checks shared by every entry point; throw before anything runs.
void check_shape(QuantStyle style, int m, int n, int k, int group_size)
{
    auto bad = [](std::string const& what) { throw std::invalid_argument("machete_sm90: " + what); };
    if (m <= 0 || n <= 0 || k <= 0)
        bad("m, n and k must be positive (m=" + std::to_string(m) + " n=" + std::to_string(n)
            + " k=" + std::to_string(k) + ")");
    if (n % 128 != 0)
        bad("n must be a multiple of 128 (Machete's prepacked block), got " + std::to_string(n));
    if (k % 64 != 0)
        bad("k must be a multiple of 64, got " + std::to_string(k));
    int64_t const g = resolve_group(k, group_size);
    if (g <= 0 || k % g != 0 || (g != k && g % 64 != 0))
        bad("group_size must be -1, k, or a multiple of 64 dividing k; got " + std::to_string(group_size));
    (void) style_info(style);
}

void check_pointers(QuantStyle style, void const* A, void const* B, void const* scales, void const* zeros,
    void const* C)
{
    if (!A || !B || !scales || !C)
        throw std::invalid_argument("machete_sm90: A, B, scales and C must not be null");
    if (style == QuantStyle::Awq && !zeros)
        throw std::invalid_argument("machete_sm90: style awq needs zeros");
    if (style == QuantStyle::Gptq && zeros)
        throw std::invalid_argument("machete_sm90: style gptq takes no zeros (use awq)");
}

RunArgs run_args(__half const* A, void const* B, __half const* scales, __half const* zeros, __half* C, int m, int n,
    int k, int group_size, void* ws, std::size_t ws_bytes, cudaStream_t stream)
{
    return RunArgs{A, B, scales, zeros, C, m, n, k, resolve_group(k, group_size), ws, ws_bytes, stream,
        current_device()};
}

std::mutex g_mutex;
std::map<std::tuple<int, int, int, int, int>, std::string> g_heuristic; // (style, m, n, k, group) -> config

// Tactics (vendor_slim::Tactics keys this process's GPU; set on first use).
constexpr char kBackend[] = "machete";
vendor_slim::Tactics g_tactics;
std::map<int, std::string> g_gpu_keys; // device -> gpu_key
int g_profile_count = 0;

char const* quant_name(QuantStyle style)
{
    return style == QuantStyle::Gptq ? "u4b8" : "u4";
}

} // namespace

char const* style_name(QuantStyle style)
{
    return style == QuantStyle::Gptq ? "gptq" : "awq";
}

QuantStyle parse_style(std::string const& name)
{
    if (name == "gptq")
        return QuantStyle::Gptq;
    if (name == "awq")
        return QuantStyle::Awq;
    throw std::invalid_argument("machete_sm90: unknown quant style '" + name + "' (use gptq or awq)");
}

bool is_compiled(QuantStyle style)
{
    return std::any_of(styles().begin(), styles().end(), [&](StyleInfo const& s) { return s.style == style; });
}

std::vector<std::string> list_configs(QuantStyle style)
{
    std::vector<std::string> out;
    for (auto const& c : configs())
        if (c.style == style)
            out.emplace_back(c.name);
    return out;
}

char const* upstream_version()
{
    return MACHETE_SM90_UPSTREAM;
}

void prepack(QuantStyle style, void* dst, void const* src, int n, int k, cudaStream_t stream)
{
    check_shape(style, 1, n, k, -1);
    if (!dst || !src)
        throw std::invalid_argument("machete_sm90: prepack needs non-null dst and src");
    int const dev = current_device();
    c10::cuda::CUDAStreamGuard guard(c10::cuda::getStreamFromExternal(stream, static_cast<c10::DeviceIndex>(dev)));
    auto const d = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(dev));
    // vLLM's prepack input: int32 [k/8, n], column-major.
    torch::Tensor const B = at::for_blob(const_cast<void*>(src), {k / 8, n})
                                .strides({1, k / 8})
                                .options(torch::TensorOptions().dtype(torch::kInt).device(d))
                                .target_device(d)
                                .make_tensor();
    torch::Tensor const packed
        = machete::prepack_B_dispatch({B, at::ScalarType::Half, style_info(style).b_type, at::ScalarType::Half});
    // Output allocated by PyTorch on this stream; freeing it after the queued copy is stream-ordered.
    cuda_ok(cudaMemcpyAsync(dst, packed.const_data_ptr(), static_cast<std::size_t>(n) * k / 2,
                cudaMemcpyDeviceToDevice, stream),
        "prepack copy");
}

std::string heuristic_config(QuantStyle style, int m, int n, int k, int group_size)
{
    check_shape(style, m, n, k, group_size);
    int64_t const g = resolve_group(k, group_size);
    auto const key = std::make_tuple(static_cast<int>(style), m, n, k, static_cast<int>(g));
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = g_heuristic.find(key);
    if (it != g_heuristic.end())
        return it->second;
    char const* name = style_info(style).heuristic(m, n, k, g);
    if (!name)
        throw std::runtime_error("machete_sm90: the upstream heuristic picked no compiled schedule");
    return g_heuristic[key] = name;
}

std::size_t workspace_size(QuantStyle style, int m, int n, int k, int group_size, char const* config)
{
    check_shape(style, m, n, k, group_size);
    // Sizes only: get_workspace_size reads the problem shape, never the data.
    auto* fake = reinterpret_cast<__half*>(static_cast<uintptr_t>(4096));
    RunArgs const a = run_args(fake, fake, fake, style == QuantStyle::Awq ? fake : nullptr, fake, m, n, k,
        group_size, nullptr, 0, nullptr);
    if (config && *config)
        return find_config(style, config).workspace(a);
    std::size_t most = 0;
    for (auto const& c : configs())
        if (c.style == style)
            most = std::max(most, c.workspace(a));
    return most;
}

void mm(QuantStyle style, __half const* A, void const* B_prepacked, __half const* scales, __half const* zeros,
    __half* C, int m, int n, int k, int group_size, void* workspace, std::size_t workspace_bytes, cudaStream_t stream,
    char const* config)
{
    check_shape(style, m, n, k, group_size);
    check_pointers(style, A, B_prepacked, scales, zeros, C);
    std::string const name = config && *config ? std::string(config) : heuristic_config(style, m, n, k, group_size);
    Config const& c = find_config(style, name);
    c.run(run_args(A, B_prepacked, scales, zeros, C, m, n, k, group_size, workspace, workspace_bytes, stream));
}

void mm_upstream(QuantStyle style, __half const* A, void const* B_prepacked, __half const* scales,
    __half const* zeros, __half* C, int m, int n, int k, int group_size, cudaStream_t stream, char const* config)
{
    check_shape(style, m, n, k, group_size);
    check_pointers(style, A, B_prepacked, scales, zeros, C);
    if (config && *config)
        (void) find_config(style, config);
    StyleInfo const& si = style_info(style);
    RunArgs const a = run_args(A, B_prepacked, scales, zeros, C, m, n, k, group_size, nullptr, 0, stream);
    c10::cuda::CUDAStreamGuard guard(
        c10::cuda::getStreamFromExternal(stream, static_cast<c10::DeviceIndex>(a.device)));
    auto const d = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(a.device));
    auto view = [&](void const* p, c10::IntArrayRef sizes, torch::ScalarType t)
    {
        return at::for_blob(const_cast<void*>(p), sizes)
            .options(torch::TensorOptions().dtype(t).device(d))
            .target_device(d)
            .make_tensor();
    };
    torch::Tensor const tA = view(A, {m, k}, torch::kHalf);
    torch::Tensor const tB = view(B_prepacked, {k / 8, n}, torch::kInt);
    int64_t const groups = k / a.group_size;
    std::optional<at::ScalarType> const out_type = at::ScalarType::Half;
    std::optional<torch::Tensor> const tS = view(scales, {groups, n}, torch::kHalf);
    std::optional<torch::Tensor> const tZ
        = zeros ? std::optional<torch::Tensor>(view(zeros, {groups, n}, torch::kHalf)) : std::nullopt;
    std::optional<torch::Tensor> const none;
    std::optional<std::string> const schedule
        = config && *config ? std::optional<std::string>(config) : std::nullopt;
    torch::Tensor const D
        = si.dispatch(machete::MMArgs{tA, tB, si.b_type, out_type, tS, tZ, a.group_size, none, none, schedule});
    cuda_ok(cudaMemcpyAsync(C, D.const_data_ptr(), static_cast<std::size_t>(m) * n * sizeof(__half),
                cudaMemcpyDeviceToDevice, stream),
        "mm_upstream copy");
}

// ---------------------------------------------------------------------------------------------------
// Tactics

std::string gpu_key()
{
    int const dev = current_device();
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = g_gpu_keys.find(dev);
    if (it != g_gpu_keys.end())
        return it->second;
    cudaDeviceProp prop{};
    cuda_ok(cudaGetDeviceProperties(&prop, dev), "cudaGetDeviceProperties");
    return g_gpu_keys[dev] = vendor_slim::gpu_key(prop.name, prop.major, prop.minor, prop.multiProcessorCount);
}

TacticsLoad load_tactics(std::string const& path)
{
    // Parse into a copy: a malformed file leaves the table as it was.
    vendor_slim::Tactics t(gpu_key());
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        for (auto const& e : g_tactics.entries())
            t.put(e);
    }
    TacticsLoad res;
    try
    {
        res.found = t.load(path, &res.warning);
    }
    catch (vendor_slim::TacticsError const& e)
    {
        std::string const what = e.what();
        if (what.find(": cannot read") != std::string::npos || what.find(": error reading") != std::string::npos)
            throw std::runtime_error(what);
        throw std::invalid_argument(what);
    }
    std::lock_guard<std::mutex> lock(g_mutex);
    g_tactics = t;
    res.entries = g_tactics.size();
    return res;
}

void save_tactics(std::string const& path)
{
    vendor_slim::Tactics copy;
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        copy = g_tactics;
    }
    try
    {
        copy.save(path);
    }
    catch (vendor_slim::TacticsError const& e)
    {
        throw std::runtime_error(e.what());
    }
}

std::string tactic(QuantStyle style, int m, int n, int k, int group_size)
{
    std::string const gpu = gpu_key();
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_tactics.gpu() != gpu)
        g_tactics = vendor_slim::Tactics(gpu);
    auto const t = g_tactics.find(kBackend, quant_name(style), m, n, k, static_cast<int>(resolve_group(k, group_size)));
    return t ? t->config : std::string();
}

void set_tactic(QuantStyle style, int m, int n, int k, int group_size, std::string const& config, double us)
{
    (void) find_config(style, config);
    vendor_slim::Tactic t;
    t.key.m = m, t.key.n = n, t.key.k = k, t.key.group = static_cast<int>(resolve_group(k, group_size));
    t.key.quant = quant_name(style);
    t.key.backend = kBackend;
    t.key.gpu = gpu_key();
    t.config = config;
    t.us = us > 0 ? us : 1e-3;
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_tactics.gpu() != t.key.gpu)
        g_tactics = vendor_slim::Tactics(t.key.gpu);
    g_tactics.put(t);
}

void clear_tactics()
{
    std::lock_guard<std::mutex> lock(g_mutex);
    g_tactics = vendor_slim::Tactics(g_tactics.gpu());
}

int profile_count()
{
    std::lock_guard<std::mutex> lock(g_mutex);
    return g_profile_count;
}

std::string profile(QuantStyle style, __half const* A, void const* B_prepacked, __half const* scales,
    __half const* zeros, __half* C, int m, int n, int k, int group_size, void* workspace,
    std::size_t workspace_bytes, cudaStream_t stream)
{
    check_shape(style, m, n, k, group_size);
    check_pointers(style, A, B_prepacked, scales, zeros, C);
    RunArgs const a = run_args(A, B_prepacked, scales, zeros, C, m, n, k, group_size, workspace, workspace_bytes,
        stream);
    cudaEvent_t ev[2];
    cuda_ok(cudaEventCreate(&ev[0]), "cudaEventCreate");
    cuda_ok(cudaEventCreate(&ev[1]), "cudaEventCreate");
    std::string best;
    double best_us = 0;
    try
    {
        for (auto const& c : configs())
        {
            if (c.style != style)
                continue;
            try
            {
                c.run(a); // warm-up (module load, TMA descriptors)
                constexpr int kReps = 10;
                cuda_ok(cudaEventRecord(ev[0], stream), "cudaEventRecord");
                for (int i = 0; i < kReps; ++i)
                    c.run(a);
                cuda_ok(cudaEventRecord(ev[1], stream), "cudaEventRecord");
                cuda_ok(cudaEventSynchronize(ev[1]), "cudaEventSynchronize");
                float ms = 0;
                cuda_ok(cudaEventElapsedTime(&ms, ev[0], ev[1]), "cudaEventElapsedTime");
                double const us = 1e3 * ms / kReps;
                if (best.empty() || us < best_us)
                {
                    best = c.name;
                    best_us = us;
                }
            }
            catch (std::runtime_error const&)
            {
                // a config that cannot run this shape is skipped
            }
        }
    }
    catch (...)
    {
        cudaEventDestroy(ev[0]);
        cudaEventDestroy(ev[1]);
        throw;
    }
    cudaEventDestroy(ev[0]);
    cudaEventDestroy(ev[1]);
    if (best.empty())
        throw std::runtime_error("machete_sm90: no config runs this shape");
    set_tactic(style, m, n, k, group_size, best, best_us);
    std::lock_guard<std::mutex> lock(g_mutex);
    ++g_profile_count;
    return best;
}

void mm_tuned(QuantStyle style, __half const* A, void const* B_prepacked, __half const* scales, __half const* zeros,
    __half* C, int m, int n, int k, int group_size, void* workspace, std::size_t workspace_bytes, cudaStream_t stream)
{
    std::string name = tactic(style, m, n, k, group_size);
    if (name.empty())
        name = profile(style, A, B_prepacked, scales, zeros, C, m, n, k, group_size, workspace, workspace_bytes, stream);
    mm(style, A, B_prepacked, scales, zeros, C, m, n, k, group_size, workspace, workspace_bytes, stream, name.c_str());
}

} // namespace machete_sm90
