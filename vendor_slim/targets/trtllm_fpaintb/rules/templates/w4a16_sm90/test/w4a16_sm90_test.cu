// w4a16_sm90_test: correctness check and benchmark for the w4a16_sm90 library.
//
//   w4a16_sm90_test [--m M[,M..] --n N[,N..] --k K[,K..] | --shapes FILE] [--group-size G]
//                   [--list-configs] [--config NAME] [--tactics FILE] [--check] [--bench] [--json FILE]
//                   [--ops fg,pc,fgz] [--quick] [--tol X]
//
// The flags every vendor-slim tree's test program shares are parsed by vendor_slim/bench_cli.h (see
// there; errors exit 2 naming the flag or FILE:LINE). Here: --m/--n/--k or --shapes replace the check
// and bench shapes below (the check then runs each CUTLASS config, the GEMV where m <= gemv_max_m(),
// and gemm_auto on exactly those shapes); --group-size replaces the group sizes of fg and fgz (64 and
// 128 in the check, 128 in the bench; pc always uses k); --list-configs prints the config names of
// the selected ops (w4a16_sm90::list_configs) and exits; --config NAME runs only that config (a
// CUTLASS name or "gemv"; ops that lack it are skipped; gemm_auto is not run then); --tactics FILE
// loads gemm_auto's choices from FILE before the run (w4a16_sm90::load_tactics: loaded shapes are not
// profiled) and saves them after it (save_tactics); "profiling_passes" in the JSON counts the
// profiling gemm_auto did in this run.
//
// No --check / --bench flag means both. --ops limits both parts to the listed ops (fg = Finegrained,
// pc = PerColumn, fgz = FinegrainedZeros); by default the check covers every compiled op and the
// benchmark covers fg. --quick uses small shapes only (smoke run). The GEMV threshold override of
// gemm_auto can be set with the environment variable W4A16_SM90_GEMV_MAX_M (see the library header);
// the check sets and restores it around its override cases.
//
// Check: for every case, fresh random data is made (and shared by all runs of that case): int4 weights
// uniform in [-8, 7] (random bytes, packed two per byte, low nibble = even column), activations
// ~U(-1, 1), scales ~U(1/16, 3/16), zeros ~U(-1/4, 1/4) (fgz), bias ~U(-1, 1) where the case has one.
// The weights go through w4a16_sm90::preprocess_weights; every run writes into an output poisoned
// with 0xFFFF (NaN) and is compared with a GPU reference that unpacks the ORIGINAL row-major packed
// weights, dequantizes them the way the CUTLASS kernel does (fp16(q * s), then fp16(+ z)), and
// accumulates in double (the GEMV forms q * s + z with one FMA: single weights differ by <= 1 fp16 ulp;
// its FP16 per-thread partial sums bring its error to ~1e-3 of max|ref| at these k, CUTLASS ~6e-4;
// both inside the tolerance).
// Runs ("path" in the JSON rows):
//   cutlass: every config (and the default, -1) of every op and group size (64, 128; k for pc) on the
//            check shapes, bias on every other shape;
//   gemv:    fg and fgz, every m in 1..gemv_max_m(), on each n x k of the check shapes, group sizes
//            64 and 128, with and without bias;
//   auto:    gemm_auto for every compiled op at m = 1, 3, 16, 200: the first (profiling) call, a
//            cached call, and where the GEMV can run, the overrides 0 (must pick CUTLASS) and
//            gemv_max_m() (must pick the GEMV).
// Plus API argument checks (JSON "api_checks"): arguments the GEMV must refuse.
// Error metric: max_rel_err = max_i |C_i - ref_i| / max_i |ref_i| (per run). A run fails on any
// non-finite output or max_rel_err > tolerance (default 5e-3, see kTolerance).
//
// Bench: for each shape (m in {1, 2, 3, 4, 16, 64, 128, 512, 4096} x the four n x k below; --quick:
// m in {1, 128} on 4096 x 4096), every config is timed (15 samples) and the best is timed again
// (50 samples) and reported ("us"); the GEMV where it can run ("gemv_us", else null); gemm_auto after
// its first, profiling, call ("auto_us", "auto_choice"); cuBLAS (cublasGemmEx, FP16 in/out, FP32
// compute, tensor ops, warmed up) on the dequantized FP16 weights. Method: CUDA events, warm-up
// launches, buffers rotated over enough copies that each copy is reused only after more than 2x the
// L2 size (cudaDeviceProp::l2CacheSize) of other data was touched; a spin kernel holds the GPU while
// the launches are queued, so that host launch overhead is not measured; samples are batches of
// back-to-back launches (each batch >= ~25 us), the result is the median per-launch time of the samples.
// Bench GEMMs have no bias. TB/s counts A + packed B + scales (+ zeros) + C bytes once per GEMM ("bytes").
// Before the shapes, the HBM copy bandwidth is measured the same way (cudaMemcpyAsync device to device
// of a buffer far larger than L2, read + write bytes over the median time: "hbm_copy_tbps"), so a
// result can say how close it is to the bandwidth limit, bytes / hbm_copy_tbps.
// *_rel_err_vs_cublas = max|C - C_cublas| / max|C_cublas| per path (reported, warned above the
// tolerance, not a failure). auto_vs_best = auto_us / min(us, gemv_us) (noted above 1.05, not a
// failure). Top-level "gemv_threshold": per (op, n, k) the largest bench m at which the GEMV beat the
// best CUTLASS config (0 if never), then the minimum over those shapes (null without GEMV rows); the
// per-shape values are in "gemv_threshold_per_shape".
//
// Exit status: 0 all good; 1 a check failed (or a bench shape had no working config, or its GEMV or
// gemm_auto threw); 2 bad usage, no compute capability 9.0 GPU, or a fatal CUDA error.
#include "w4a16_sm90/w4a16_sm90.h"

#include "w4a16_sm90_test_cli.h"

#include <cublas_v2.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using w4a16_sm90::QuantOp;

namespace
{

// Expected error with a correct kernel: the output is rounded to FP16 once (<= 2^-11 relative to the
// element, so <= 4.9e-4 of max|ref|); PerColumn with bias rounds twice (<= ~1e-3). Dequantization is
// mirrored exactly by the reference, FP32 accumulation over K <= 2048 adds ~1e-6. The GEMV accumulates
// k / 128 products per thread in FP16 before an FP32 reduction: ~1e-3 at K <= 2048 (seen on an H200:
// worst 9.9e-4). Any layout, nibble, group or zero-point mistake gives errors of order 0.1 - 1. 5e-3
// leaves 5x headroom over the worst legitimate case and is still ~20x below the smallest structural error.
constexpr double kTolerance = 5e-3;

// ---------------------------------------------------------------------------------------------------
// Errors and small RAII helpers

struct Fatal : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

void cuda_check(cudaError_t err, char const* what, int line)
{
    if (err != cudaSuccess)
    {
        throw Fatal(std::string(what) + " (line " + std::to_string(line) + "): " + cudaGetErrorString(err));
    }
}

#define CUDA_CHECK(x) cuda_check((x), #x, __LINE__)

void cublas_check(cublasStatus_t st, char const* what, int line)
{
    if (st != CUBLAS_STATUS_SUCCESS)
    {
        throw Fatal(std::string(what) + " (line " + std::to_string(line) + "): cuBLAS status " + std::to_string(st));
    }
}

#define CUBLAS_CHECK(x) cublas_check((x), #x, __LINE__)

class DevBuf
{
public:
    DevBuf() = default;

    explicit DevBuf(size_t bytes)
        : bytes_(bytes)
    {
        if (bytes_ > 0)
        {
            CUDA_CHECK(cudaMalloc(&ptr_, bytes_));
        }
    }

    DevBuf(DevBuf&& o) noexcept
        : ptr_(std::exchange(o.ptr_, nullptr))
        , bytes_(std::exchange(o.bytes_, 0))
    {
    }

    DevBuf& operator=(DevBuf&& o) noexcept
    {
        std::swap(ptr_, o.ptr_);
        std::swap(bytes_, o.bytes_);
        return *this;
    }

    DevBuf(DevBuf const&) = delete;
    DevBuf& operator=(DevBuf const&) = delete;

    ~DevBuf()
    {
        if (ptr_)
        {
            cudaFree(ptr_);
        }
    }

    template <typename T = void>
    T* get() const
    {
        return static_cast<T*>(ptr_);
    }

    size_t bytes() const
    {
        return bytes_;
    }

private:
    void* ptr_ = nullptr;
    size_t bytes_ = 0;
};

struct OpDesc
{
    QuantOp op;
    char const* key;
};

constexpr OpDesc kAllOps[] = {
    {QuantOp::Finegrained, "fg"},
    {QuantOp::PerColumn, "pc"},
    {QuantOp::FinegrainedZeros, "fgz"},
};

uint64_t splitmix64(uint64_t& state)
{
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// Random bytes = two independent int4 values uniform in [-8, 7] per byte.
void random_packed_int4(std::vector<int8_t>& v, uint64_t seed)
{
    uint64_t state = seed;
    size_t i = 0;
    for (; i + 8 <= v.size(); i += 8)
    {
        uint64_t r = splitmix64(state);
        std::memcpy(&v[i], &r, 8);
    }
    for (; i < v.size(); ++i)
    {
        v[i] = static_cast<int8_t>(splitmix64(state) & 0xFF);
    }
}

// ---------------------------------------------------------------------------------------------------
// Device helpers

__device__ __forceinline__ uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

__global__ void fill_uniform_kernel(__half* p, size_t count, float lo, float hi, uint64_t seed)
{
    size_t const stride = static_cast<size_t>(gridDim.x) * blockDim.x;
    for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride)
    {
        float const u = static_cast<float>(mix64(seed + 0x9E3779B97F4A7C15ull * (i + 1)) >> 40) * (1.0f / 16777216.0f);
        p[i] = __float2half_rn(lo + (hi - lo) * u);
    }
}

// Element (row, col) of a row-major [k, n] int4 matrix packed two per byte, low nibble = even column.
__device__ __forceinline__ int unpack_int4(uint8_t const* q, size_t row, int col, int n)
{
    uint8_t const byte = q[(row * static_cast<size_t>(n) + col) / 2];
    int const nib = (col & 1) ? (byte >> 4) : (byte & 0xF);
    return nib >= 8 ? nib - 16 : nib;
}

// Mirrors the SM90 mixed-input mainloop: q converted to fp16, times the fp16 scale (rounded to fp16),
// plus the fp16 zero (rounded to fp16).
__device__ __forceinline__ float dequant(int q, __half const* scales, __half const* zeros, size_t idx)
{
    float w = __half2float(__float2half_rn(static_cast<float>(q) * __half2float(scales[idx])));
    if (zeros != nullptr)
    {
        w = __half2float(__float2half_rn(w + __half2float(zeros[idx])));
    }
    return w;
}

__global__ void reference_kernel(__half const* A, uint8_t const* q, __half const* scales, __half const* zeros,
    __half const* bias, float* ref, int m, int n, int k, int group_size)
{
    int const col = blockIdx.x * blockDim.x + threadIdx.x;
    int const row = blockIdx.y;
    if (col >= n || row >= m)
    {
        return;
    }
    double acc = 0.0;
    for (int kk = 0; kk < k; ++kk)
    {
        size_t const sidx = static_cast<size_t>(kk / group_size) * n + col;
        float const w = dequant(unpack_int4(q, kk, col, n), scales, zeros, sidx);
        acc += static_cast<double>(__half2float(A[static_cast<size_t>(row) * k + kk])) * w;
    }
    if (bias != nullptr)
    {
        acc += __half2float(bias[col]);
    }
    ref[static_cast<size_t>(row) * n + col] = static_cast<float>(acc);
}

__global__ void dequant_to_half_kernel(
    uint8_t const* q, __half const* scales, __half const* zeros, __half* w, int n, int k, int group_size)
{
    size_t const count = static_cast<size_t>(k) * n;
    size_t const stride = static_cast<size_t>(gridDim.x) * blockDim.x;
    for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride)
    {
        size_t const row = i / n;
        int const col = static_cast<int>(i % n);
        size_t const sidx = (row / group_size) * n + col;
        w[i] = __float2half_rn(dequant(unpack_int4(q, row, col, n), scales, zeros, sidx));
    }
}

struct CmpResult
{
    unsigned int max_err_bits; // float bits; non-negative floats order like unsigned ints
    unsigned int max_ref_bits;
    unsigned long long non_finite;
};

__device__ __forceinline__ float to_float(float x)
{
    return x;
}

__device__ __forceinline__ float to_float(__half x)
{
    return __half2float(x);
}

template <typename RefT>
__global__ void compare_kernel(__half const* out, RefT const* ref, size_t count, CmpResult* res)
{
    float max_err = 0.f, max_ref = 0.f;
    unsigned long long bad = 0;
    size_t const stride = static_cast<size_t>(gridDim.x) * blockDim.x;
    for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride)
    {
        float const o = __half2float(out[i]);
        float const r = to_float(ref[i]);
        max_ref = fmaxf(max_ref, fabsf(r));
        if (!isfinite(o))
        {
            ++bad;
            continue;
        }
        max_err = fmaxf(max_err, fabsf(o - r));
    }
    atomicMax(&res->max_err_bits, __float_as_uint(max_err));
    atomicMax(&res->max_ref_bits, __float_as_uint(max_ref));
    if (bad)
    {
        atomicAdd(&res->non_finite, bad);
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

int grid_for(size_t count)
{
    return static_cast<int>(std::min<size_t>((count + 255) / 256, 4096));
}

void fill_uniform(DevBuf const& b, float lo, float hi, uint64_t seed, cudaStream_t s)
{
    size_t const count = b.bytes() / sizeof(__half);
    if (count == 0)
    {
        return;
    }
    fill_uniform_kernel<<<grid_for(count), 256, 0, s>>>(b.get<__half>(), count, lo, hi, seed);
    CUDA_CHECK(cudaGetLastError());
}

struct Compared
{
    double rel_err;
    unsigned long long non_finite;
};

template <typename RefT>
Compared compare(__half const* out, RefT const* ref, size_t count, DevBuf const& res_buf, cudaStream_t s)
{
    CUDA_CHECK(cudaMemsetAsync(res_buf.get(), 0, sizeof(CmpResult), s));
    compare_kernel<RefT><<<grid_for(count), 256, 0, s>>>(out, ref, count, res_buf.get<CmpResult>());
    CUDA_CHECK(cudaGetLastError());
    CmpResult r{};
    CUDA_CHECK(cudaMemcpyAsync(&r, res_buf.get(), sizeof(r), cudaMemcpyDeviceToHost, s));
    CUDA_CHECK(cudaStreamSynchronize(s));
    float max_err = 0.f, max_ref = 0.f;
    std::memcpy(&max_err, &r.max_err_bits, sizeof(float));
    std::memcpy(&max_ref, &r.max_ref_bits, sizeof(float));
    return {static_cast<double>(max_err) / std::max(static_cast<double>(max_ref), 1e-30), r.non_finite};
}

// ---------------------------------------------------------------------------------------------------
// Timing

class Timer
{
public:
    static constexpr int kMaxSamples = 64;

    explicit Timer(cudaStream_t s)
        : stream_(s)
        , events_(kMaxSamples + 1)
    {
        for (auto& e : events_)
        {
            CUDA_CHECK(cudaEventCreate(&e));
        }
    }

    Timer(Timer const&) = delete;
    Timer& operator=(Timer const&) = delete;

    ~Timer()
    {
        for (auto& e : events_)
        {
            cudaEventDestroy(e);
        }
    }

    // Median per-launch time in microseconds. launch(i) enqueues launch number i on the stream.
    double median_us(std::function<void(int)> const& launch, int warmup, int samples)
    {
        samples = std::min(std::max(samples, 1), kMaxSamples);
        warmup = std::max(warmup, 1);
        int it = 0;
        launch(it++); // first launch: lazy module loading, one-time setup
        CUDA_CHECK(cudaStreamSynchronize(stream_));

        auto const h0 = std::chrono::steady_clock::now();
        CUDA_CHECK(cudaEventRecord(events_[0], stream_));
        for (int i = 0; i < warmup; ++i)
        {
            launch(it++);
            CUDA_CHECK(cudaEventRecord(events_[1], stream_));
        }
        auto const h1 = std::chrono::steady_clock::now();
        CUDA_CHECK(cudaStreamSynchronize(stream_));
        float ms = 0.f;
        CUDA_CHECK(cudaEventElapsedTime(&ms, events_[0], events_[1]));
        double const est_us = std::max(1e3 * ms / warmup, 0.5);
        double const host_us = std::chrono::duration<double, std::micro>(h1 - h0).count() / warmup;

        // Launches per sample: each sample >= ~25 us of GPU time; at most ~512 launches queued in all.
        int per = static_cast<int>(std::ceil(25.0 / est_us));
        per = std::max(1, std::min({per, 50, 512 / samples}));

        // Hold the GPU while everything is queued, so the samples see back-to-back GPU execution.
        double const spin_us = std::min(2.0 * host_us * per * samples + 50.0, 500000.0);
        spin_kernel<<<1, 1, 0, stream_>>>(static_cast<unsigned long long>(spin_us * 1e3));
        CUDA_CHECK(cudaGetLastError());
        CUDA_CHECK(cudaEventRecord(events_[0], stream_));
        for (int sidx = 0; sidx < samples; ++sidx)
        {
            for (int p = 0; p < per; ++p)
            {
                launch(it++);
            }
            CUDA_CHECK(cudaEventRecord(events_[sidx + 1], stream_));
        }
        CUDA_CHECK(cudaStreamSynchronize(stream_));
        std::vector<double> t(samples);
        for (int sidx = 0; sidx < samples; ++sidx)
        {
            CUDA_CHECK(cudaEventElapsedTime(&ms, events_[sidx], events_[sidx + 1]));
            t[sidx] = 1e3 * ms / per;
        }
        std::sort(t.begin(), t.end());
        return samples % 2 ? t[samples / 2] : 0.5 * (t[samples / 2 - 1] + t[samples / 2]);
    }

private:
    cudaStream_t stream_;
    std::vector<cudaEvent_t> events_;
};

// ---------------------------------------------------------------------------------------------------
// Results and JSON

struct CheckRow
{
    std::string op;
    std::string path; // "cutlass", "gemv" or "auto"
    int config;       // cutlass: the config (-1 default); gemv: -1; auto: the config it chose (-1 GEMV)
    std::string name;
    int m, n, k, group_size;
    bool bias;
    double max_rel_err; // NaN when the run threw
    bool ok;
    std::string error;
};

struct BenchRow
{
    std::string op;
    int m, n, k, group_size;
    int best_config = -1;
    std::string best_name;
    double us = NAN, cublas_us = NAN, speedup = NAN, tbps = NAN, rel_err_vs_cublas = NAN;
    double gemv_us = NAN, gemv_tbps = NAN, gemv_rel_err_vs_cublas = NAN; // NaN: GEMV not eligible
    double auto_us = NAN, auto_tbps = NAN, auto_speedup = NAN, auto_vs_best = NAN, auto_rel_err_vs_cublas = NAN;
    double auto_profile_ms = NAN; // wall time of the first (profiling) gemm_auto call
    int auto_config = -2;         // -1 GEMV, >= 0 CUTLASS config
    std::string auto_choice;
    bool auto_profiled = false;   // the first gemm_auto call profiled (false: cached, e.g. from --tactics)
    size_t bytes = 0;             // A + packed B + scales (+ zeros) + C
    std::string error;
};

struct ApiCheck
{
    std::string what;
    bool ok;
    std::string detail;
};

std::string json_str(std::string const& s)
{
    std::string o = "\"";
    for (char c : s)
    {
        switch (c)
        {
        case '"': o += "\\\""; break;
        case '\\': o += "\\\\"; break;
        case '\n': o += "\\n"; break;
        case '\t': o += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20)
            {
                char buf[8];
                std::snprintf(buf, sizeof(buf), "\\u%04x", c);
                o += buf;
            }
            else
            {
                o += c;
            }
        }
    }
    return o + "\"";
}

std::string json_num(double x)
{
    if (!std::isfinite(x))
    {
        return "null";
    }
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.6g", x);
    return buf;
}

std::string fmt2(double x)
{
    if (!std::isfinite(x))
    {
        return "-";
    }
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.2f", x);
    return buf;
}

std::string version_str(int v)
{
    return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

void print_configs(std::vector<OpDesc> const& ops)
{
    for (OpDesc const& od : ops)
    {
        int const nconf = w4a16_sm90::num_configs(od.op);
        std::printf("  configs of %s:\n", od.key);
        for (int ci = 0; ci < nconf; ++ci)
        {
            std::printf("    [%2d] %s\n", ci, w4a16_sm90::config_name(od.op, ci).c_str());
        }
    }
}

// What the command line asks of the check and the bench (beyond --check / --bench / --json).
struct RunOptions
{
    std::vector<vendor_slim::Shape> shapes; // empty: the built-in shapes
    int group_size = 0;                     // 0: the built-in group sizes
    std::string config;                     // "": every config (and gemm_auto)
};

RunOptions g_run;

// Whether the --config filter lets config `ci` (-1 = the GEMV) of `op` run.
bool config_selected(QuantOp op, int ci)
{
    return g_run.config.empty() || w4a16_sm90::config_index(op, g_run.config) == ci;
}

// ---------------------------------------------------------------------------------------------------
// Check

struct CheckCtx
{
    cudaStream_t stream;
    double tol;
    std::vector<CheckRow> rows;
    std::vector<ApiCheck> api;
};

// One check problem: data, the reference, and buffers shared by every path run on it.
struct CaseData
{
    OpDesc od;
    int m, n, k, gs;
    bool bias;
    DevBuf B, A, S, Z, Bias, C, Ref, Res, Ws;
    size_t ws_bytes;
};

CaseData make_case(CheckCtx& ctx, OpDesc const& od, int group_size_arg, int m, int n, int k, bool with_bias,
    uint64_t seed)
{
    cudaStream_t const s = ctx.stream;
    bool const has_zeros = od.op == QuantOp::FinegrainedZeros;
    int const gs = od.op == QuantOp::PerColumn ? k : group_size_arg;
    size_t const groups = static_cast<size_t>(k / gs);
    size_t const wbytes = static_cast<size_t>(k) * n / 2;

    std::vector<int8_t> hq(wbytes), hpre(wbytes);
    random_packed_int4(hq, seed);
    w4a16_sm90::preprocess_weights(hpre.data(), hq.data(), k, n);

    // workspace_size() needs the op's CUTLASS kernels; a GEMV-only case of an op without them needs none.
    size_t const ws_bytes = w4a16_sm90::is_compiled(od.op) ? w4a16_sm90::workspace_size(od.op, m, n, k) : 0;
    CaseData d{od, m, n, k, gs, with_bias, DevBuf(wbytes), DevBuf(sizeof(__half) * m * k),
        DevBuf(sizeof(__half) * groups * n), DevBuf(has_zeros ? sizeof(__half) * groups * n : 0),
        DevBuf(with_bias ? sizeof(__half) * n : 0), DevBuf(sizeof(__half) * m * n), DevBuf(sizeof(float) * m * n),
        DevBuf(sizeof(CmpResult)), DevBuf(ws_bytes), ws_bytes};
    DevBuf dq(wbytes);
    CUDA_CHECK(cudaMemcpyAsync(dq.get(), hq.data(), wbytes, cudaMemcpyHostToDevice, s));
    CUDA_CHECK(cudaMemcpyAsync(d.B.get(), hpre.data(), wbytes, cudaMemcpyHostToDevice, s));
    fill_uniform(d.A, -1.f, 1.f, seed ^ 0xA, s);
    fill_uniform(d.S, 1.f / 16, 3.f / 16, seed ^ 0x5, s);
    fill_uniform(d.Z, -0.25f, 0.25f, seed ^ 0x2, s);
    fill_uniform(d.Bias, -1.f, 1.f, seed ^ 0xB, s);
    reference_kernel<<<dim3((n + 127) / 128, m), 128, 0, s>>>(d.A.get<__half>(), dq.get<uint8_t>(), d.S.get<__half>(),
        d.Z.get<__half>(), d.Bias.get<__half>(), d.Ref.get<float>(), m, n, k, gs);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaStreamSynchronize(s)); // dq goes out of scope
    return d;
}

// Runs one path into a NaN-poisoned C and compares with the reference. run() returns the config that
// ran (for "auto"; others return their own); `expect` (optional) returns an error text or "";
// `name_after` (optional) replaces `name` after the run.
void run_case(CheckCtx& ctx, CaseData& d, char const* path, int config, std::string name,
    std::function<int()> const& run, std::function<std::string(int)> const& expect = nullptr,
    std::function<std::string()> const& name_after = nullptr)
{
    cudaStream_t const s = ctx.stream;
    CheckRow row{d.od.key, path, config, std::move(name), d.m, d.n, d.k, d.gs, d.bias, NAN, false, ""};
    CUDA_CHECK(cudaMemsetAsync(d.C.get(), 0xFF, d.C.bytes(), s)); // 0xFFFF = fp16 NaN
    try
    {
        row.config = run();
        Compared const c = compare(d.C.get<__half>(), d.Ref.get<float>(), static_cast<size_t>(d.m) * d.n, d.Res, s);
        row.max_rel_err = c.rel_err;
        row.ok = c.non_finite == 0 && c.rel_err <= ctx.tol;
        if (c.non_finite)
        {
            row.error = std::to_string(c.non_finite) + " non-finite outputs";
        }
        if (expect)
        {
            std::string const e = expect(row.config);
            if (!e.empty())
            {
                row.ok = false;
                row.error += (row.error.empty() ? "" : "; ") + e;
            }
        }
    }
    catch (Fatal const&)
    {
        throw;
    }
    catch (std::exception const& e)
    {
        row.error = e.what();
        CUDA_CHECK(cudaStreamSynchronize(s)); // a sticky CUDA error ends the run here
        (void) cudaGetLastError();
    }
    if (name_after)
    {
        row.name = name_after();
    }
    std::printf("  %-3s %-7s gs=%-5d m=%-5d n=%-5d k=%-5d bias=%d cfg=%-3d max_rel_err=%-10.3e %s%s%s\n",
        row.op.c_str(), row.path.c_str(), d.gs, d.m, d.n, d.k, int(d.bias), row.config, row.max_rel_err,
        row.ok ? "ok" : "FAIL", row.error.empty() ? "" : "  ", row.error.c_str());
    if (row.path != "cutlass")
    {
        std::printf("        %s\n", row.name.c_str());
    }
    ctx.rows.push_back(std::move(row));
}

// Every CUTLASS config (and the default, -1) on one problem.
void check_case(CheckCtx& ctx, OpDesc const& od, int group_size_arg, int m, int n, int k, bool with_bias, uint64_t seed)
{
    CaseData d = make_case(ctx, od, group_size_arg, m, n, k, with_bias, seed);
    int const nconf = w4a16_sm90::num_configs(od.op);
    for (int ci = -1; ci < nconf; ++ci)
    {
        if (!g_run.config.empty() && (ci < 0 || !config_selected(od.op, ci)))
        {
            continue;
        }
        run_case(ctx, d, "cutlass", ci, ci < 0 ? "default (-1)" : w4a16_sm90::config_name(od.op, ci),
            [&]
            {
                w4a16_sm90::gemm(od.op, d.A.get<__half>(), d.B.get(), d.S.get<__half>(), d.Z.get<__half>(),
                    d.Bias.get<__half>(), d.C.get<__half>(), m, n, k, d.gs, d.Ws.get(), d.ws_bytes, ctx.stream, ci);
                return ci;
            });
    }
}

// The GEMV on one problem.
void check_gemv_case(
    CheckCtx& ctx, OpDesc const& od, int group_size, int m, int n, int k, bool with_bias, uint64_t seed)
{
    CaseData d = make_case(ctx, od, group_size, m, n, k, with_bias, seed);
    run_case(ctx, d, "gemv", -1, "gemv",
        [&]
        {
            w4a16_sm90::gemv(od.op, d.A.get<__half>(), d.B.get(), d.S.get<__half>(), d.Z.get<__half>(),
                d.Bias.get<__half>(), d.C.get<__half>(), m, n, k, d.gs, nullptr, 0, ctx.stream);
            return -1;
        });
}

bool gemv_eligible(QuantOp op, int m, int gs)
{
    return w4a16_sm90::has_gemv() && op != QuantOp::PerColumn && m >= 1 && m <= w4a16_sm90::gemv_max_m()
        && (gs == 64 || gs == 128);
}

// gemm_auto on one problem: the first (profiling) call, a cached call, and, where the GEMV is eligible,
// the two overrides (0: CUTLASS; gemv_max_m(): GEMV).
void check_auto_case(
    CheckCtx& ctx, OpDesc const& od, int group_size, int m, int n, int k, bool with_bias, uint64_t seed)
{
    CaseData d = make_case(ctx, od, group_size, m, n, k, with_bias, seed);
    bool const eligible = gemv_eligible(od.op, m, d.gs);
    auto call = [&]
    {
        w4a16_sm90::gemm_auto(od.op, d.A.get<__half>(), d.B.get(), d.S.get<__half>(), d.Z.get<__half>(),
            d.Bias.get<__half>(), d.C.get<__half>(), m, n, k, d.gs, d.Ws.get(), d.ws_bytes, ctx.stream);
        return w4a16_sm90::gemm_auto_config(od.op, m, n, k, d.gs, with_bias);
    };
    auto choice = [&] { return w4a16_sm90::gemm_auto_choice(od.op, m, n, k, d.gs, with_bias); };
    auto consistent = [&](int cfg) -> std::string
    {
        if (cfg == -2)
            return "gemm_auto_config reports the shape as not profiled after gemm_auto ran";
        if (cfg == -1 && !eligible)
            return "chose the GEMV for a shape the GEMV cannot run";
        return "";
    };

    int const saved = w4a16_sm90::gemv_max_m_override();
    w4a16_sm90::set_gemv_max_m(-1);
    try
    {
        std::string const first
            = std::string("auto, first call") + (choice().empty() ? " (profiling)" : " (already cached)");
        run_case(ctx, d, "auto", -2, first, call, consistent, [&] { return first + " -> " + choice(); });
        run_case(ctx, d, "auto", -2, "auto, cached", call, consistent, [&] { return "auto, cached -> " + choice(); });
        if (eligible)
        {
            w4a16_sm90::set_gemv_max_m(0);
            run_case(
                ctx, d, "auto", -2, "auto, override 0", call,
                [&](int cfg) { return cfg >= 0 ? std::string() : std::string("override 0 did not pick CUTLASS"); },
                [&] { return "auto, override 0 -> " + choice(); });
            int const mx = w4a16_sm90::gemv_max_m();
            w4a16_sm90::set_gemv_max_m(mx);
            run_case(
                ctx, d, "auto", -2, "auto, override " + std::to_string(mx), call,
                [&](int cfg)
                { return cfg == -1 ? std::string() : std::string("override gemv_max_m() did not pick the GEMV"); },
                [&] { return "auto, override " + std::to_string(mx) + " -> " + choice(); });
        }
    }
    catch (...)
    {
        w4a16_sm90::set_gemv_max_m(saved);
        throw;
    }
    w4a16_sm90::set_gemv_max_m(saved);
}

// Arguments the API must refuse with std::invalid_argument (no kernel runs).
void check_api(CheckCtx& ctx)
{
    auto expect_invalid = [&](std::string what, std::function<void()> const& f)
    {
        ApiCheck a{std::move(what), false, ""};
        try
        {
            f();
            a.detail = "no exception";
        }
        catch (std::invalid_argument const& e)
        {
            a.ok = true;
            a.detail = e.what();
        }
        catch (std::exception const& e)
        {
            a.detail = std::string("wrong exception: ") + e.what();
        }
        std::printf("  api: %-58s %s  (%s)\n", a.what.c_str(), a.ok ? "ok" : "FAIL", a.detail.c_str());
        ctx.api.push_back(std::move(a));
    };
    // Valid-looking aligned pointers; validation must fail before anything dereferences them.
    DevBuf buf(1 << 20);
    auto* h = buf.get<__half>();
    int const mx = w4a16_sm90::gemv_max_m();
    expect_invalid("set_gemv_max_m(-2) is refused", [&] { w4a16_sm90::set_gemv_max_m(-2); });
    if (!w4a16_sm90::has_gemv())
    {
        expect_invalid("gemv() without the GEMV in the build is refused",
            [&] { w4a16_sm90::gemv(QuantOp::Finegrained, h, h, h, nullptr, nullptr, h, 1, 64, 128, 64, nullptr, 0,
                      ctx.stream); });
        return;
    }
    expect_invalid("gemv(PerColumn) is refused",
        [&] { w4a16_sm90::gemv(QuantOp::PerColumn, h, h, h, nullptr, nullptr, h, 1, 64, 128, 128, nullptr, 0,
                  ctx.stream); });
    expect_invalid("gemv(m = gemv_max_m() + 1) is refused",
        [&] { w4a16_sm90::gemv(QuantOp::Finegrained, h, h, h, nullptr, nullptr, h, mx + 1, 64, 256, 128, nullptr, 0,
                  ctx.stream); });
    expect_invalid("gemv(group_size = 256) is refused",
        [&] { w4a16_sm90::gemv(QuantOp::Finegrained, h, h, h, nullptr, nullptr, h, 1, 64, 256, 256, nullptr, 0,
                  ctx.stream); });
    expect_invalid("gemv(FinegrainedZeros without zeros) is refused",
        [&] { w4a16_sm90::gemv(QuantOp::FinegrainedZeros, h, h, h, nullptr, nullptr, h, 1, 64, 256, 128, nullptr, 0,
                  ctx.stream); });
}

bool run_check(CheckCtx& ctx, std::vector<OpDesc> const& ops, bool quick)
{
    struct Shape
    {
        int m, n, k;
    };

    // n = 1344 leaves partial 128-wide n tiles; k = 1152 is an odd number of 128-groups (9) and of 64-groups (18)
    // and not a multiple of the GEMV's 1024-wide k step.
    std::vector<Shape> shapes = quick ? std::vector<Shape>{{1, 1024, 2048}, {128, 1024, 2048}, {3, 1344, 1152}}
                                      : std::vector<Shape>{{1, 1024, 2048}, {16, 1024, 2048}, {128, 1024, 2048},
                                          {1000, 1024, 2048}, {3, 1344, 1152}, {200, 1344, 1152}};
    std::vector<int> fg_group_sizes = quick ? std::vector<int>{128} : std::vector<int>{64, 128};
    bool const custom = !g_run.shapes.empty();
    if (custom)
    {
        shapes.clear();
        for (auto const& sh : g_run.shapes)
        {
            shapes.push_back({sh.m, sh.n, sh.k});
        }
    }
    if (g_run.group_size > 0)
    {
        fg_group_sizes = {g_run.group_size};
    }
    // The n x k of the check shapes, each once (for the GEMV, which runs every m in 1..gemv_max_m()).
    std::vector<std::pair<int, int>> nks;
    for (auto const& sh : shapes)
    {
        if (std::find(nks.begin(), nks.end(), std::make_pair(sh.n, sh.k)) == nks.end())
        {
            nks.emplace_back(sh.n, sh.k);
        }
    }
    std::vector<Shape> const auto_shapes = custom ? shapes
                                                  : std::vector<Shape>{{1, 1024, 2048}, {3, 1344, 1152},
                                                      {16, 1024, 2048}, {200, 1344, 1152}};
    bool const run_gemv = w4a16_sm90::has_gemv() && (g_run.config.empty() || g_run.config == "gemv");

    std::printf("== check (max_rel_err = max|C - ref| / max|ref|, tolerance %.1e)\n", ctx.tol);
    print_configs(ops);
    std::printf("  GEMV: %s\n",
        w4a16_sm90::has_gemv() ? ("m = 1.." + std::to_string(w4a16_sm90::gemv_max_m())).c_str() : "not in this build");
    uint64_t seed = 0x5EED0000;
    std::printf("-- CUTLASS configs\n");
    for (OpDesc const& od : ops)
    {
        if (g_run.config == "gemv")
        {
            break;
        }
        std::vector<int> const gss = od.op == QuantOp::PerColumn ? std::vector<int>{0} : fg_group_sizes;
        for (int gs : gss)
        {
            for (size_t si = 0; si < shapes.size(); ++si)
            {
                check_case(ctx, od, gs, shapes[si].m, shapes[si].n, shapes[si].k, si % 2 == 0, ++seed);
            }
        }
    }
    if (run_gemv)
    {
        std::printf("-- GEMV\n");
        for (OpDesc const& od : ops)
        {
            if (od.op == QuantOp::PerColumn)
            {
                continue;
            }
            for (int gs : fg_group_sizes)
            {
                for (auto const& nk : nks)
                {
                    for (int bias = 0; bias < 2; ++bias)
                    {
                        for (int m = 1; m <= w4a16_sm90::gemv_max_m(); ++m)
                        {
                            bool const listed = std::any_of(shapes.begin(), shapes.end(), [&](Shape const& sh)
                                { return sh.m == m && sh.n == nk.first && sh.k == nk.second; });
                            if (!custom || listed) // given shapes: exactly those the GEMV can run
                            {
                                check_gemv_case(ctx, od, gs, m, nk.first, nk.second, bias != 0, ++seed);
                            }
                        }
                    }
                }
            }
        }
    }
    std::printf("-- gemm_auto (GEMV override now %d)%s\n", w4a16_sm90::gemv_max_m_override(),
        g_run.config.empty() ? "" : ": skipped (--config)");
    for (OpDesc const& od : ops)
    {
        if (!w4a16_sm90::is_compiled(od.op) || !g_run.config.empty())
        {
            continue;
        }
        std::vector<int> const gss = od.op == QuantOp::PerColumn ? std::vector<int>{0} : fg_group_sizes;
        for (int gs : gss)
        {
            for (size_t si = 0; si < auto_shapes.size(); ++si)
            {
                check_auto_case(
                    ctx, od, gs, auto_shapes[si].m, auto_shapes[si].n, auto_shapes[si].k, si % 2 == 0, ++seed);
            }
        }
    }
    std::printf("-- API argument checks\n");
    check_api(ctx);

    size_t failed = 0, api_failed = 0;
    double worst = 0.0;
    std::string worst_by_path;
    for (char const* path : {"cutlass", "gemv", "auto"})
    {
        size_t runs = 0;
        double w = 0.0;
        for (auto const& r : ctx.rows)
        {
            if (r.path == path)
            {
                ++runs;
                if (std::isfinite(r.max_rel_err))
                {
                    w = std::max(w, r.max_rel_err);
                }
            }
        }
        if (runs)
        {
            char buf[96];
            std::snprintf(
                buf, sizeof(buf), "%s%s %zu runs worst %.3e", worst_by_path.empty() ? "" : ", ", path, runs, w);
            worst_by_path += buf;
        }
    }
    for (auto const& r : ctx.rows)
    {
        failed += !r.ok;
        if (std::isfinite(r.max_rel_err))
        {
            worst = std::max(worst, r.max_rel_err);
        }
    }
    for (auto const& a : ctx.api)
    {
        api_failed += !a.ok;
    }
    std::printf("== check: %zu runs, %zu failed, worst max_rel_err %.3e (%s); api checks %zu, %zu failed\n\n",
        ctx.rows.size(), failed, worst, worst_by_path.c_str(), ctx.api.size(), api_failed);
    return failed == 0 && api_failed == 0;
}

// ---------------------------------------------------------------------------------------------------
// Bench

struct BenchCtx
{
    cudaStream_t stream;
    cublasHandle_t cublas;
    size_t l2_bytes;
    double tol;
    std::vector<BenchRow> rows;
    double hbm_copy_tbps = NAN; // measured at the start of the bench
};

// HBM copy bandwidth in TB/s, read + write bytes: device-to-device copies of a buffer much larger
// than L2, timed like the kernels (median of samples, back-to-back on a held GPU).
double measure_hbm_copy_tbps(cudaStream_t s, size_t l2_bytes)
{
    size_t free_b = 0, total_b = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    size_t bytes = std::min<size_t>(size_t(1) << 30, free_b / 4);
    bytes = std::max(bytes, 8 * l2_bytes) / 256 * 256;
    DevBuf src(bytes), dst(bytes);
    CUDA_CHECK(cudaMemsetAsync(src.get(), 0x11, bytes, s));
    Timer timer(s);
    double const us = timer.median_us(
        [&](int) { CUDA_CHECK(cudaMemcpyAsync(dst.get(), src.get(), bytes, cudaMemcpyDeviceToDevice, s)); }, 3, 15);
    return 2.0 * static_cast<double>(bytes) / (us * 1e-6) / 1e12;
}

// Copies so that each one is reused only after > 2x L2 of other data; bounded by a memory budget.
int rotation_count(size_t per_copy, size_t l2_bytes, size_t budget)
{
    size_t r = (2 * l2_bytes + per_copy - 1) / per_copy + 1;
    r = std::max<size_t>(r, 2);
    r = std::min<size_t>(r, std::max<size_t>(1, budget / std::max<size_t>(per_copy, 1)));
    return static_cast<int>(std::min<size_t>(r, 256));
}

struct SkipAuto // not a std::exception: the catch clauses below pass it through to its own
{
};

struct W4Set
{
    DevBuf A, B, S, Z, C;
};

struct F16Set
{
    DevBuf A, W, C;
};

void bench_shape(BenchCtx& ctx, OpDesc const& od, int m, int n, int k, int gs, DevBuf const& B0, DevBuf const& S0,
    DevBuf const& Z0, DevBuf const& W16, uint64_t seed)
{
    cudaStream_t const s = ctx.stream;
    bool const has_zeros = od.op == QuantOp::FinegrainedZeros;
    BenchRow row;
    row.op = od.key;
    row.m = m, row.n = n, row.k = k, row.group_size = gs;

    size_t const a_bytes = sizeof(__half) * m * k, c_bytes = sizeof(__half) * m * n;
    size_t const ws4 = a_bytes + B0.bytes() + S0.bytes() + (has_zeros ? Z0.bytes() : 0) + c_bytes;
    row.bytes = ws4;
    size_t const ws16 = a_bytes + W16.bytes() + c_bytes;
    size_t free_b = 0, total_b = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    int const r4 = rotation_count(ws4, ctx.l2_bytes, free_b * 2 / 5);
    int const r16 = rotation_count(ws16, ctx.l2_bytes, free_b * 2 / 5);

    DevBuf A0(a_bytes);
    fill_uniform(A0, -1.f, 1.f, seed, s);
    std::vector<W4Set> w4(r4);
    for (auto& st : w4)
    {
        st.A = DevBuf(a_bytes);
        st.B = DevBuf(B0.bytes());
        st.S = DevBuf(S0.bytes());
        st.Z = DevBuf(has_zeros ? Z0.bytes() : 0);
        st.C = DevBuf(c_bytes);
        CUDA_CHECK(cudaMemcpyAsync(st.A.get(), A0.get(), a_bytes, cudaMemcpyDeviceToDevice, s));
        CUDA_CHECK(cudaMemcpyAsync(st.B.get(), B0.get(), B0.bytes(), cudaMemcpyDeviceToDevice, s));
        CUDA_CHECK(cudaMemcpyAsync(st.S.get(), S0.get(), S0.bytes(), cudaMemcpyDeviceToDevice, s));
        if (has_zeros)
        {
            CUDA_CHECK(cudaMemcpyAsync(st.Z.get(), Z0.get(), Z0.bytes(), cudaMemcpyDeviceToDevice, s));
        }
    }
    size_t const ws_bytes = w4a16_sm90::workspace_size(od.op, m, n, k);
    DevBuf ws(ws_bytes);
    CUDA_CHECK(cudaStreamSynchronize(s));

    Timer timer(s);
    auto w4_launch = [&](int ci)
    {
        return [&, ci](int i)
        {
            W4Set const& st = w4[i % r4];
            w4a16_sm90::gemm(od.op, st.A.get<__half>(), st.B.get(), st.S.get<__half>(), st.Z.get<__half>(), nullptr,
                st.C.get<__half>(), m, n, k, gs, ws.get(), ws_bytes, s, ci);
        };
    };

    // Sweep all configs, then re-time the best one with more samples.
    int const nconf = w4a16_sm90::num_configs(od.op);
    double best_sweep = INFINITY;
    std::string failures;
    bool const gemv_only = g_run.config == "gemv";
    for (int ci = 0; ci < nconf; ++ci)
    {
        if (gemv_only || !config_selected(od.op, ci))
        {
            continue;
        }
        try
        {
            double const us = timer.median_us(w4_launch(ci), 3, 15);
            if (us < best_sweep)
            {
                best_sweep = us;
                row.best_config = ci;
            }
        }
        catch (Fatal const&)
        {
            throw;
        }
        catch (std::exception const& e)
        {
            CUDA_CHECK(cudaStreamSynchronize(s));
            (void) cudaGetLastError();
            failures += " cfg" + std::to_string(ci) + ": " + e.what() + ";";
        }
    }
    if (!failures.empty())
    {
        std::printf("  note: %s m=%d n=%d k=%d failing configs:%s\n", od.key, m, n, k, failures.c_str());
    }
    if (row.best_config < 0 && !gemv_only)
    {
        row.error = "no config ran:" + failures;
        std::printf("  %-3s %-5d %-6d %-6d ERROR %s\n", od.key, m, n, k, row.error.c_str());
        ctx.rows.push_back(std::move(row));
        return;
    }
    if (row.best_config >= 0)
    {
        row.best_name = w4a16_sm90::config_name(od.op, row.best_config);
        row.us = timer.median_us(w4_launch(row.best_config), 5, 50);
        row.tbps = static_cast<double>(ws4) / (row.us * 1e-6) / 1e12;
    }

    // The GEMV, where it can run this shape (and --config does not name a CUTLASS config).
    bool const eligible = gemv_eligible(od.op, m, gs) && (g_run.config.empty() || gemv_only);
    auto gemv_launch = [&](int i)
    {
        W4Set const& st = w4[i % r4];
        w4a16_sm90::gemv(od.op, st.A.get<__half>(), st.B.get(), st.S.get<__half>(), st.Z.get<__half>(), nullptr,
            st.C.get<__half>(), m, n, k, gs, nullptr, 0, s);
    };
    if (eligible)
    {
        try
        {
            row.gemv_us = timer.median_us(gemv_launch, 5, 50);
            row.gemv_tbps = static_cast<double>(ws4) / (row.gemv_us * 1e-6) / 1e12;
        }
        catch (Fatal const&)
        {
            throw;
        }
        catch (std::exception const& e)
        {
            CUDA_CHECK(cudaStreamSynchronize(s));
            (void) cudaGetLastError();
            row.error = std::string("gemv: ") + e.what();
        }
    }

    // gemm_auto: the first call profiles (timed on the host, for information), then warm calls are timed.
    auto auto_launch = [&](int i)
    {
        W4Set const& st = w4[i % r4];
        w4a16_sm90::gemm_auto(od.op, st.A.get<__half>(), st.B.get(), st.S.get<__half>(), st.Z.get<__half>(), nullptr,
            st.C.get<__half>(), m, n, k, gs, ws.get(), ws_bytes, s);
    };
    try
    {
        if (!g_run.config.empty())
        {
            throw SkipAuto{}; // --config: only that config runs
        }
        long long const passes = w4a16_sm90::profiling_passes();
        auto const t0 = std::chrono::steady_clock::now();
        auto_launch(0);
        CUDA_CHECK(cudaStreamSynchronize(s));
        row.auto_profiled = w4a16_sm90::profiling_passes() > passes;
        row.auto_profile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
        row.auto_config = w4a16_sm90::gemm_auto_config(od.op, m, n, k, gs, false);
        row.auto_choice = w4a16_sm90::gemm_auto_choice(od.op, m, n, k, gs, false);
        row.auto_us = timer.median_us(auto_launch, 5, 50);
        row.auto_tbps = static_cast<double>(ws4) / (row.auto_us * 1e-6) / 1e12;
        double const best_path = std::isfinite(row.gemv_us) ? std::min(row.us, row.gemv_us) : row.us;
        row.auto_vs_best = row.auto_us / best_path;
    }
    catch (Fatal const&)
    {
        throw;
    }
    catch (SkipAuto const&)
    {
    }
    catch (std::exception const& e)
    {
        CUDA_CHECK(cudaStreamSynchronize(s));
        (void) cudaGetLastError();
        row.error += (row.error.empty() ? "" : "; ") + std::string("gemm_auto: ") + e.what();
    }

    // cuBLAS on the dequantized weights. Row-major C[m,n] = A[m,k] W[k,n] is column-major
    // C^T[n,m] = W^T[n,k] A^T[k,m], with W^T, A^T, C^T column-major with leading dims n, k, n.
    std::vector<F16Set> f16(r16);
    for (auto& st : f16)
    {
        st.A = DevBuf(a_bytes);
        st.W = DevBuf(W16.bytes());
        st.C = DevBuf(c_bytes);
        CUDA_CHECK(cudaMemcpyAsync(st.A.get(), A0.get(), a_bytes, cudaMemcpyDeviceToDevice, s));
        CUDA_CHECK(cudaMemcpyAsync(st.W.get(), W16.get(), W16.bytes(), cudaMemcpyDeviceToDevice, s));
    }
    CUDA_CHECK(cudaStreamSynchronize(s));
    float const alpha = 1.f, beta = 0.f;
    auto cublas_launch = [&](int i)
    {
        F16Set const& st = f16[i % r16];
        CUBLAS_CHECK(
            cublasGemmEx(ctx.cublas, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, &alpha, st.W.get(), CUDA_R_16F, n, st.A.get(),
                CUDA_R_16F, k, &beta, st.C.get(), CUDA_R_16F, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT_TENSOR_OP));
    };
    row.cublas_us = timer.median_us(cublas_launch, 5, 50);
    row.speedup = row.cublas_us / row.us;
    row.auto_speedup = row.cublas_us / row.auto_us;
    cublas_launch(0); // f16[0].C = the cuBLAS result

    // Each path's result on copy 0 against cuBLAS.
    DevBuf res(sizeof(CmpResult));
    auto vs_cublas = [&](std::function<void(int)> const& launch) -> double
    {
        CUDA_CHECK(cudaMemsetAsync(w4[0].C.get(), 0xFF, c_bytes, s));
        launch(0);
        Compared const c = compare(w4[0].C.get<__half>(), f16[0].C.get<__half>(), static_cast<size_t>(m) * n, res, s);
        return c.non_finite ? NAN : c.rel_err;
    };
    if (row.best_config >= 0)
    {
        row.rel_err_vs_cublas = vs_cublas(w4_launch(row.best_config));
    }
    if (std::isfinite(row.gemv_us))
    {
        row.gemv_rel_err_vs_cublas = vs_cublas(gemv_launch);
    }
    if (std::isfinite(row.auto_us))
    {
        row.auto_rel_err_vs_cublas = vs_cublas(auto_launch);
    }
    auto bad = [&](double e) { return !(e <= ctx.tol); };
    std::string warn;
    if (row.best_config >= 0 && bad(row.rel_err_vs_cublas))
        warn += "  WARNING: best config differs from cuBLAS";
    if (std::isfinite(row.gemv_us) && bad(row.gemv_rel_err_vs_cublas))
        warn += "  WARNING: GEMV differs from cuBLAS";
    if (std::isfinite(row.auto_us) && bad(row.auto_rel_err_vs_cublas))
        warn += "  WARNING: gemm_auto differs from cuBLAS";
    if (row.auto_vs_best > 1.05)
        warn += "  NOTE: gemm_auto > 5% slower than the faster path";
    if (!row.error.empty())
        warn += "  ERROR " + row.error;

    std::string const choice = row.auto_config == -1 ? "gemv"
        : row.auto_config >= 0                      ? "cfg " + std::to_string(row.auto_config)
                                                    : "-";
    std::printf("  %-3s %-5d %-6d %-6d %-4d %9.2f %9s %9.2f %-7s %6s %9.2f %7.2f %7.2f %7.3f %9.1e %3d/%-3d%s\n",
        od.key, m, n, k, row.best_config, row.us, fmt2(row.gemv_us).c_str(), row.auto_us, choice.c_str(),
        fmt2(row.auto_vs_best).c_str(), row.cublas_us, row.speedup, row.auto_speedup, row.auto_tbps,
        row.rel_err_vs_cublas, r4, r16, warn.c_str());
    ctx.rows.push_back(std::move(row));
}

// Per (op, n, k): the largest bench m at which the GEMV beat the best CUTLASS config (0: never);
// shapes without a GEMV measurement are left out.
struct Threshold
{
    std::string op;
    int n, k, m;
};

std::vector<Threshold> gemv_thresholds(std::vector<BenchRow> const& rows)
{
    std::vector<Threshold> out;
    for (auto const& r : rows)
    {
        if (!std::isfinite(r.gemv_us) || !std::isfinite(r.us))
        {
            continue;
        }
        auto it = std::find_if(out.begin(), out.end(),
            [&](Threshold const& t) { return t.op == r.op && t.n == r.n && t.k == r.k; });
        if (it == out.end())
        {
            out.push_back({r.op, r.n, r.k, 0});
            it = out.end() - 1;
        }
        if (r.gemv_us < r.us)
        {
            it->m = std::max(it->m, r.m);
        }
    }
    return out;
}

// The minimum over shapes; -1 when there is none.
int gemv_threshold(std::vector<Threshold> const& t)
{
    int m = -1;
    for (auto const& x : t)
    {
        m = m < 0 ? x.m : std::min(m, x.m);
    }
    return m;
}

bool run_bench(BenchCtx& ctx, std::vector<OpDesc> const& ops, bool quick)
{
    std::vector<int> const ms
        = quick ? std::vector<int>{1, 128} : std::vector<int>{1, 2, 3, 4, 16, 64, 128, 512, 4096};
    std::vector<std::pair<int, int>> const nks = quick
        ? std::vector<std::pair<int, int>>{{4096, 4096}}
        : std::vector<std::pair<int, int>>{{4096, 4096}, {8192, 8192}, {28672, 8192}, {8192, 28672}};
    // (n, k) -> the m to run on it, in order: the built-in grid, or the shapes given.
    std::vector<std::pair<std::pair<int, int>, std::vector<int>>> plan;
    for (auto const& nk : nks)
    {
        plan.push_back({nk, ms});
    }
    if (!g_run.shapes.empty())
    {
        plan.clear();
        for (auto const& sh : g_run.shapes)
        {
            auto it = std::find_if(plan.begin(), plan.end(),
                [&](auto const& p) { return p.first == std::make_pair(sh.n, sh.k); });
            if (it == plan.end())
            {
                plan.push_back({{sh.n, sh.k}, {}});
                it = plan.end() - 1;
            }
            it->second.push_back(sh.m);
        }
    }
    ctx.hbm_copy_tbps = measure_hbm_copy_tbps(ctx.stream, ctx.l2_bytes);
    std::printf("== HBM copy bandwidth (device-to-device copy, read + write): %.3f TB/s\n", ctx.hbm_copy_tbps);

    std::printf("== bench (median per-launch time in us; no bias)\n"
                "  cfg/us: best CUTLASS config; gemv_us: the GEMV (- where it cannot run); auto_us: gemm_auto, warm,\n"
                "  choice = its cached choice; auto/best = auto_us / min(us, gemv_us); cublas_us: cuBLAS FP16 on the\n"
                "  dequantized weights; x_best = cublas_us / us; x_auto = cublas_us / auto_us; TB/s of gemm_auto;\n"
                "  vs_cublas: max|C_best - C_cublas| / max|C_cublas|\n");
    print_configs(ops);
    std::printf("  GEMV: %s; gemm_auto override: %d (-1 automatic)\n",
        w4a16_sm90::has_gemv() ? ("m = 1.." + std::to_string(w4a16_sm90::gemv_max_m())).c_str() : "not in this build",
        w4a16_sm90::gemv_max_m_override());
    std::printf("  %-3s %-5s %-6s %-6s %-4s %9s %9s %9s %-7s %6s %9s %7s %7s %7s %9s %7s\n", "op", "m", "n", "k", "cfg",
        "us", "gemv_us", "auto_us", "choice", "a/best", "cublas_us", "x_best", "x_auto", "TB/s", "vs_cublas", "rot");
    cudaStream_t const s = ctx.stream;
    uint64_t seed = 0xBE7C0000;
    for (OpDesc const& od : ops)
    {
        bool const has_zeros = od.op == QuantOp::FinegrainedZeros;
        for (auto const& [nk, shape_ms] : plan)
        {
            int const n = nk.first, k = nk.second;
            int const gs = od.op == QuantOp::PerColumn ? k : g_run.group_size > 0 ? g_run.group_size : 128;
            size_t const groups = static_cast<size_t>(k / gs);
            size_t const wbytes = static_cast<size_t>(k) * n / 2;

            std::vector<int8_t> hq(wbytes), hpre(wbytes);
            random_packed_int4(hq, ++seed);
            w4a16_sm90::preprocess_weights(hpre.data(), hq.data(), k, n);

            DevBuf B0(wbytes), S0(sizeof(__half) * groups * n), Z0(has_zeros ? sizeof(__half) * groups * n : 0);
            DevBuf W16(sizeof(__half) * k * n);
            {
                DevBuf q(wbytes);
                CUDA_CHECK(cudaMemcpyAsync(q.get(), hq.data(), wbytes, cudaMemcpyHostToDevice, s));
                CUDA_CHECK(cudaMemcpyAsync(B0.get(), hpre.data(), wbytes, cudaMemcpyHostToDevice, s));
                fill_uniform(S0, 1.f / 16, 3.f / 16, seed ^ 0x5, s);
                fill_uniform(Z0, -0.25f, 0.25f, seed ^ 0x2, s);
                dequant_to_half_kernel<<<grid_for(static_cast<size_t>(k) * n), 256, 0, s>>>(
                    q.get<uint8_t>(), S0.get<__half>(), Z0.get<__half>(), W16.get<__half>(), n, k, gs);
                CUDA_CHECK(cudaGetLastError());
                CUDA_CHECK(cudaStreamSynchronize(s));
            }
            for (int m : shape_ms)
            {
                bench_shape(ctx, od, m, n, k, gs, B0, S0, Z0, W16, seed * 31 + m);
            }
        }
    }
    bool ok = true;
    double worst_auto = 0.0;
    for (auto const& r : ctx.rows)
    {
        ok = ok && r.error.empty();
        if (std::isfinite(r.auto_vs_best))
        {
            worst_auto = std::max(worst_auto, r.auto_vs_best);
        }
    }
    auto const th = gemv_thresholds(ctx.rows);
    for (auto const& t : th)
    {
        std::printf("  GEMV faster than the best CUTLASS config up to m = %d on %s n=%d k=%d\n", t.m, t.op.c_str(), t.n,
            t.k);
    }
    int const tmin = gemv_threshold(th);
    std::printf("== bench: gemv_threshold (min over shapes) %s; gemm_auto worst auto/best %.3f\n\n",
        tmin < 0 ? "n/a (no GEMV measured)" : std::to_string(tmin).c_str(), worst_auto);
    return ok;
}

// ---------------------------------------------------------------------------------------------------
// main

// What --tactics did, and how much profiling gemm_auto did, for the JSON.
struct RunInfo
{
    std::string gpu_key; // read before any kernel runs (a sticky CUDA error must not cost the JSON)
    std::string config;
    std::string tactics;
    int tactics_loaded = 0;
    int tactics_saved = -1; // -1: not saved
    long long profiling_passes = 0;
    double hbm_copy_tbps = NAN;
};

bool write_json(std::string const& path, cudaDeviceProp const& prop, int driver, int runtime, double tol,
    std::vector<CheckRow> const& checks, std::vector<ApiCheck> const& api, std::vector<BenchRow> const& bench, bool ok,
    RunInfo const& info)
{
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f)
    {
        std::fprintf(stderr, "error: cannot write %s\n", path.c_str());
        return false;
    }
    std::string j = "{\n";
    j += "  \"backend\": \"trtllm\",\n";
    j += "  \"gpu\": " + json_str(prop.name) + ",\n";
    j += "  \"gpu_key\": " + json_str(info.gpu_key) + ",\n";
    j += "  \"sm_count\": " + std::to_string(prop.multiProcessorCount) + ",\n";
    j += "  \"cc\": " + json_str(std::to_string(prop.major) + "." + std::to_string(prop.minor)) + ",\n";
    j += "  \"driver\": " + json_str(version_str(driver)) + ",\n";
    j += "  \"cuda_runtime\": " + json_str(version_str(runtime)) + ",\n";
    j += "  \"l2_bytes\": " + std::to_string(prop.l2CacheSize) + ",\n";
    j += "  \"tolerance\": " + json_num(tol) + ",\n";
    j += std::string("  \"has_gemv\": ") + (w4a16_sm90::has_gemv() ? "true" : "false") + ",\n";
    j += "  \"gemv_max_m\": " + std::to_string(w4a16_sm90::gemv_max_m()) + ",\n";
    j += "  \"gemv_max_m_override\": " + std::to_string(w4a16_sm90::gemv_max_m_override()) + ",\n";
    j += "  \"hbm_copy_tbps\": " + json_num(info.hbm_copy_tbps) + ",\n";
    j += "  \"config_filter\": " + (info.config.empty() ? std::string("null") : json_str(info.config)) + ",\n";
    j += "  \"tactics\": " + (info.tactics.empty() ? std::string("null")
        : "{\"file\": " + json_str(info.tactics) + ", \"loaded\": " + std::to_string(info.tactics_loaded)
            + ", \"saved\": " + (info.tactics_saved < 0 ? std::string("null") : std::to_string(info.tactics_saved))
            + "}") + ",\n";
    j += "  \"profiling_passes\": " + std::to_string(info.profiling_passes) + ",\n";
    j += "  \"check\": [";
    for (size_t i = 0; i < checks.size(); ++i)
    {
        auto const& r = checks[i];
        j += std::string(i ? ",\n" : "\n") + "    {\"op\": " + json_str(r.op)
            + ", \"config\": " + std::to_string(r.config) + ", \"name\": " + json_str(r.name)
            + ", \"m\": " + std::to_string(r.m) + ", \"n\": " + std::to_string(r.n) + ", \"k\": " + std::to_string(r.k)
            + ", \"group_size\": " + std::to_string(r.group_size) + ", \"bias\": " + (r.bias ? "true" : "false")
            + ", \"path\": " + json_str(r.path)
            + ", \"max_rel_err\": " + json_num(r.max_rel_err) + ", \"ok\": " + (r.ok ? "true" : "false")
            + (r.error.empty() ? "" : ", \"error\": " + json_str(r.error)) + "}";
    }
    j += checks.empty() ? "],\n" : "\n  ],\n";
    j += "  \"bench\": [";
    for (size_t i = 0; i < bench.size(); ++i)
    {
        auto const& r = bench[i];
        j += std::string(i ? ",\n" : "\n") + "    {\"op\": " + json_str(r.op) + ", \"m\": " + std::to_string(r.m)
            + ", \"n\": " + std::to_string(r.n) + ", \"k\": " + std::to_string(r.k) + ", \"group_size\": "
            + std::to_string(r.group_size) + ", \"best_config\": " + std::to_string(r.best_config) + ", \"best_name\": "
            + json_str(r.best_name) + ", \"us\": " + json_num(r.us) + ", \"cublas_us\": " + json_num(r.cublas_us)
            + ", \"speedup\": " + json_num(r.speedup) + ", \"tbps\": " + json_num(r.tbps) + ", \"rel_err_vs_cublas\": "
            + json_num(r.rel_err_vs_cublas) + ", \"gemv_us\": " + json_num(r.gemv_us) + ", \"gemv_tbps\": "
            + json_num(r.gemv_tbps) + ", \"gemv_rel_err_vs_cublas\": " + json_num(r.gemv_rel_err_vs_cublas)
            + ", \"auto_us\": " + json_num(r.auto_us) + ", \"auto_choice\": " + json_str(r.auto_choice)
            + ", \"auto_config\": " + std::to_string(r.auto_config) + ", \"auto_vs_best\": " + json_num(r.auto_vs_best)
            + ", \"auto_speedup\": " + json_num(r.auto_speedup) + ", \"auto_tbps\": " + json_num(r.auto_tbps)
            + ", \"auto_rel_err_vs_cublas\": " + json_num(r.auto_rel_err_vs_cublas) + ", \"auto_profile_ms\": "
            + json_num(r.auto_profile_ms) + ", \"auto_profiled\": " + (r.auto_profiled ? "true" : "false")
            + ", \"bytes\": " + std::to_string(r.bytes) + (r.error.empty() ? "" : ", \"error\": " + json_str(r.error)) + "}";
    }
    j += bench.empty() ? "],\n" : "\n  ],\n";
    auto const th = gemv_thresholds(bench);
    int const tmin = gemv_threshold(th);
    j += "  \"gemv_threshold\": " + (tmin < 0 ? std::string("null") : std::to_string(tmin)) + ",\n";
    j += "  \"gemv_threshold_per_shape\": [";
    for (size_t i = 0; i < th.size(); ++i)
    {
        j += std::string(i ? ", " : "") + "{\"op\": " + json_str(th[i].op) + ", \"n\": " + std::to_string(th[i].n)
            + ", \"k\": " + std::to_string(th[i].k) + ", \"m\": " + std::to_string(th[i].m) + "}";
    }
    j += "],\n";
    j += "  \"api_checks\": [";
    for (size_t i = 0; i < api.size(); ++i)
    {
        j += std::string(i ? ",\n" : "\n") + "    {\"what\": " + json_str(api[i].what) + ", \"ok\": "
            + (api[i].ok ? "true" : "false") + ", \"detail\": " + json_str(api[i].detail) + "}";
    }
    j += api.empty() ? "],\n" : "\n  ],\n";
    j += std::string("  \"ok\": ") + (ok ? "true" : "false") + "\n}\n";
    bool const written = std::fwrite(j.data(), 1, j.size(), f) == j.size();
    return (std::fclose(f) == 0) && written;
}

int real_main(int argc, char** argv)
{
    w4a16_sm90_test::Args args;
    int const parsed = w4a16_sm90_test::parse_args(argc, argv, kTolerance, args);
    if (parsed >= 0)
    {
        return parsed;
    }
    bool do_check = args.opt.check, do_bench = args.opt.bench;
    bool const quick = args.quick;
    std::string const json_path = args.opt.json;
    double const tol = args.tol;
    if (!do_check && !do_bench)
    {
        do_check = do_bench = true;
    }
    g_run.shapes = args.opt.shapes;
    g_run.group_size = args.opt.group_size;
    g_run.config = args.opt.config;

    // Pick the first compute capability 9.0 device.
    int count = 0;
    cudaError_t const cerr = cudaGetDeviceCount(&count);
    int dev = -1;
    cudaDeviceProp prop{};
    std::string seen;
    for (int d = 0; cerr == cudaSuccess && d < count && dev < 0; ++d)
    {
        CUDA_CHECK(cudaGetDeviceProperties(&prop, d));
        seen += std::string(seen.empty() ? "" : ", ") + prop.name + " (" + std::to_string(prop.major) + "."
            + std::to_string(prop.minor) + ")";
        if (prop.major == 9 && prop.minor == 0)
        {
            dev = d;
        }
    }
    if (dev < 0)
    {
        std::fprintf(stderr, "error: no CUDA device with compute capability 9.0 (H100/H200) found; %s\n",
            cerr != cudaSuccess ? cudaGetErrorString(cerr)
                : seen.empty()  ? "no devices"
                                : ("devices: " + seen).c_str());
        return 2;
    }
    CUDA_CHECK(cudaSetDevice(dev));
    int driver = 0, runtime = 0;
    CUDA_CHECK(cudaDriverGetVersion(&driver));
    CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
    std::printf("GPU %d: %s, cc %d.%d, %d SMs, L2 %.1f MB, driver %s, runtime %s\n", dev, prop.name, prop.major,
        prop.minor, prop.multiProcessorCount, prop.l2CacheSize / 1048576.0, version_str(driver).c_str(),
        version_str(runtime).c_str());

    // Ops.
    std::vector<OpDesc> compiled, check_ops, bench_ops;
    for (auto const& od : kAllOps)
    {
        if (w4a16_sm90::is_compiled(od.op))
        {
            compiled.push_back(od);
        }
    }
    if (compiled.empty())
    {
        std::fprintf(stderr, "error: the library has no quant op compiled in\n");
        return 2;
    }
    if (!args.ops.empty())
    {
        for (std::string const& key : args.ops)
        {
            auto it
                = std::find_if(std::begin(kAllOps), std::end(kAllOps), [&](OpDesc const& od) { return key == od.key; });
            if (!w4a16_sm90::is_compiled(it->op))
            {
                std::fprintf(stderr, "error: op '%s' is not compiled into this library\n", key.c_str());
                return 2;
            }
            if (std::none_of(check_ops.begin(), check_ops.end(), [&](OpDesc const& od) { return od.op == it->op; }))
            {
                check_ops.push_back(*it);
            }
        }
        bench_ops = check_ops;
    }
    else
    {
        check_ops = compiled;
        bench_ops = {w4a16_sm90::is_compiled(QuantOp::Finegrained) ? kAllOps[0] : compiled[0]};
    }
    std::string compiled_keys;
    for (auto const& od : compiled)
    {
        compiled_keys += std::string(compiled_keys.empty() ? "" : ",") + od.key + "("
            + std::to_string(w4a16_sm90::num_configs(od.op)) + " configs)";
    }
    std::printf("compiled ops: %s; GEMV: %s\n\n", compiled_keys.c_str(),
        w4a16_sm90::has_gemv() ? ("m = 1.." + std::to_string(w4a16_sm90::gemv_max_m())).c_str() : "no");

    if (args.opt.list_configs)
    {
        std::vector<OpDesc> const& shown = args.ops.empty() ? compiled : check_ops;
        for (OpDesc const& od : shown)
        {
            if (shown.size() > 1)
            {
                std::printf("# %s\n", od.key);
            }
            for (std::string const& name : w4a16_sm90::list_configs(od.op))
            {
                std::printf("%s\n", name.c_str());
            }
        }
        return 0;
    }
    if (!g_run.config.empty())
    {
        // Only the ops that have the named config take part.
        auto has = [&](OpDesc const& od)
        {
            auto const names = w4a16_sm90::list_configs(od.op);
            return std::find(names.begin(), names.end(), g_run.config) != names.end();
        };
        check_ops.erase(std::remove_if(check_ops.begin(), check_ops.end(), [&](OpDesc const& od) { return !has(od); }),
            check_ops.end());
        bench_ops.erase(std::remove_if(bench_ops.begin(), bench_ops.end(), [&](OpDesc const& od) { return !has(od); }),
            bench_ops.end());
        if (check_ops.empty() && bench_ops.empty())
        {
            std::fprintf(stderr,
                "w4a16_sm90_test: error: --config: no selected op has a config named '%s' (--list-configs lists "
                "them)\n",
                g_run.config.c_str());
            return 2;
        }
    }
    RunInfo info;
    info.gpu_key = w4a16_sm90::gpu_key();
    info.config = g_run.config;
    info.tactics = args.opt.tactics;
    if (!info.tactics.empty())
    {
        try
        {
            info.tactics_loaded = w4a16_sm90::load_tactics(info.tactics);
        }
        catch (std::invalid_argument const& e)
        {
            std::fprintf(stderr, "w4a16_sm90_test: error: %s\n", e.what());
            return 2;
        }
        std::printf("tactics: %d shape(s) loaded from %s\n\n", info.tactics_loaded, info.tactics.c_str());
    }

    cudaStream_t stream = nullptr;
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));

    bool ok = true;
    CheckCtx cctx{stream, tol, {}, {}};
    BenchCtx bctx{stream, nullptr, static_cast<size_t>(prop.l2CacheSize), tol, {}};
    std::string fatal;
    try
    {
        if (do_check)
        {
            ok = run_check(cctx, check_ops, quick) && ok;
        }
        if (do_bench)
        {
            CUBLAS_CHECK(cublasCreate(&bctx.cublas));
            CUBLAS_CHECK(cublasSetStream(bctx.cublas, stream));
            ok = run_bench(bctx, bench_ops, quick) && ok;
        }
    }
    catch (std::exception const& e)
    {
        fatal = e.what();
        ok = false;
        std::fprintf(stderr, "fatal: %s\n", e.what());
    }
    if (bctx.cublas)
    {
        cublasDestroy(bctx.cublas);
    }
    info.profiling_passes = w4a16_sm90::profiling_passes();
    info.hbm_copy_tbps = bctx.hbm_copy_tbps;
    if (!info.tactics.empty() && fatal.empty())
    {
        try
        {
            info.tactics_saved = w4a16_sm90::save_tactics(info.tactics);
            std::printf("tactics: %d shape(s) saved to %s\n", info.tactics_saved, info.tactics.c_str());
        }
        catch (std::exception const& e)
        {
            std::fprintf(stderr, "error: %s\n", e.what());
            ok = false;
        }
    }
    std::printf("gemm_auto profiling passes in this run: %lld\n", info.profiling_passes);

    if (!json_path.empty()
        && !write_json(json_path, prop, driver, runtime, tol, cctx.rows, cctx.api, bctx.rows, ok, info))
    {
        ok = false;
    }
    std::printf("%s\n", ok ? "OK" : "FAILED");
    if (!fatal.empty())
    {
        return 2;
    }
    return ok ? 0 : 1;
}

} // namespace

int main(int argc, char** argv)
{
    try
    {
        return real_main(argc, argv);
    }
    catch (std::exception const& e)
    {
        std::fprintf(stderr, "fatal: %s\n", e.what());
        return 2;
    }
}
