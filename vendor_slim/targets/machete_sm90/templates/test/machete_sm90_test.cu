// machete_sm90_test: correctness check and benchmark for the machete_sm90 library.
//
//   machete_sm90_test [--m M --n N --k K | --shapes FILE] [--group-size G] [--list-configs]
//                     [--config NAME] [--tactics FILE] [--check] [--bench] [--json FILE]
//                     [--styles gptq,awq] [--quick] [--tol X]
//
// The unified interface of vendor-slim's test programs (vendor_slim/bench_cli.h). No --check/--bench:
// both. --styles limits both parts (default: the check covers every compiled style, the bench gptq).
// --m/--n/--k or --shapes replace the default shapes of both parts; --config limits both parts to
// that config; --group-size (default 128; -1 = per column) sets the bench's group size and, when
// given, the check's only group size (default 64 and 128).
//
// Check: for every case fresh random data (shared by all runs of the case): nibbles u uniform in
// [0, 15] (random bytes), activations ~U(-1, 1), scales ~U(1/16, 3/16), AWQ zeros z = -zp * s with
// zp uniform in [0, 15] (Machete's pre-scaled zero point). The weights go through prepack(); every
// run writes into an output poisoned with 0xFFFF (NaN) and is compared with a GPU reference that
// unpacks the ORIGINAL weights, dequantizes them as the kernel does (fp16(fp16(q) * s), then
// fp16(+ z)) and accumulates in double. Runs ("path" in the JSON rows): "config" every compiled
// config, "heuristic" mm() with no config (Machete's own choice), "upstream" vLLM's launcher
// (mm_dispatch -> run_impl, PyTorch-allocated output, copied), "tuned" mm_tuned(). Metric:
// rel_err = ||C - ref||_2 / ||ref||_2 (fails above the tolerance, default 2e-3, or on any non-finite
// output); max_rel_err = max|C - ref| / max|ref| is reported too.
//
// Bench: per shape (m in {1, 2, 3, 4, 16, 64, 128, 512, 4096} x (n, k) in {(4096, 4096), (8192, 8192),
// (28672, 8192), (8192, 28672)}, group 128; --quick: m in {1, 128} on 4096 x 4096) every config is
// timed (15 samples) and the best timed again (50 samples) ("us"); with --tactics, a shape whose
// tactic is known times that config alone (no profiling; "profiled": false) and a profiled shape's
// best is saved; the heuristic's choice ("auto_us", "auto_choice", "auto_vs_best" = auto_us / us,
// noted above 1.10); cuBLAS (cublasGemmEx, FP16 in/out, FP32 compute, tensor ops) on the
// dequantized FP16 weights ("cublas_us"). Method as the TensorRT-LLM tree's test program: CUDA events,
// warm-up (here >= ~10 ms of launches), buffers rotated over enough copies that each is reused only
// after more than 2x the L2 of other data, a spin kernel holding the GPU while launches are queued
// (host overhead is not measured; if queueing outlasted the hold, measured again with a longer one),
// samples are batches of back-to-back launches (>= ~25 us each), median per launch. "host_us": host
// time per mm() call (PyTorch views, CUTLASS initialize, launch), hidden while the GPU is busy. TB/s counts
// A + packed B + scales (+ zeros) + C once. The HBM copy bandwidth (device-to-device copy of 1 GiB,
// read + write) is measured in the same run ("hbm_copy_tbps").
//
// Exit status: 0 all good; 1 a check failed (or a bench shape had no working config); 2 bad usage or
// tactics file, no compute capability 9.0 GPU, or a fatal CUDA error.
#include "machete_sm90/machete_sm90.h"
#include "vendor_slim/bench_cli.h"

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
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using machete_sm90::QuantStyle;

namespace
{

// A correct kernel: FP16 output rounding (<= 2^-11 of each element, ~2.8e-4 RMS relative), FP32
// accumulation (~1e-6 at these k); the dequantization is mirrored exactly. Layout, nibble, group or
// zero mistakes give errors of order 0.1 - 1. 2e-3 is ~7x the legitimate error, ~50x below a mistake.
constexpr double kTolerance = 2e-3;

struct Fatal : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

void cuda_check(cudaError_t err, char const* what, int line)
{
    if (err != cudaSuccess)
        throw Fatal(std::string(what) + " (line " + std::to_string(line) + "): " + cudaGetErrorString(err));
}

#define CUDA_CHECK(x) cuda_check((x), #x, __LINE__)

void cublas_check(cublasStatus_t st, char const* what, int line)
{
    if (st != CUBLAS_STATUS_SUCCESS)
        throw Fatal(std::string(what) + " (line " + std::to_string(line) + "): cuBLAS status " + std::to_string(st));
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
            CUDA_CHECK(cudaMalloc(&ptr_, bytes_));
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
            cudaFree(ptr_);
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

struct StyleDesc
{
    QuantStyle style;
    char const* key;
};

constexpr StyleDesc kAllStyles[] = {{QuantStyle::Gptq, "gptq"}, {QuantStyle::Awq, "awq"}};

// ---------------------------------------------------------------------------------------------------
// Device helpers

__device__ __forceinline__ uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

__device__ __forceinline__ uint64_t rnd(uint64_t seed, size_t i)
{
    return mix64(seed + 0x9E3779B97F4A7C15ull * (i + 1));
}

__global__ void fill_uniform_kernel(__half* p, size_t count, float lo, float hi, uint64_t seed)
{
    size_t const stride = static_cast<size_t>(gridDim.x) * blockDim.x;
    for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride)
    {
        float const u = static_cast<float>(rnd(seed, i) >> 40) * (1.0f / 16777216.0f);
        p[i] = __float2half_rn(lo + (hi - lo) * u);
    }
}

__global__ void fill_bytes_kernel(uint8_t* p, size_t count, uint64_t seed)
{
    size_t const stride = static_cast<size_t>(gridDim.x) * blockDim.x;
    for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride)
        p[i] = static_cast<uint8_t>(rnd(seed, i) >> 56);
}

// Machete's pre-scaled zero: z = fp16(-zp * s), zp uniform in [0, 15].
__global__ void fill_zeros_kernel(__half* z, __half const* s, size_t count, uint64_t seed)
{
    size_t const stride = static_cast<size_t>(gridDim.x) * blockDim.x;
    for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride)
        z[i] = __float2half_rn(-static_cast<float>(rnd(seed, i) >> 60) * __half2float(s[i]));
}

// Nibble (n, kk) of the [n, k/2] weights: byte n * k/2 + kk/2, low nibble = even kk.
__device__ __forceinline__ int nibble(uint8_t const* q, int n_idx, int kk, int k)
{
    uint8_t const b = q[static_cast<size_t>(n_idx) * (k / 2) + kk / 2];
    return (kk & 1) ? (b >> 4) : (b & 0xF);
}

// The kernel's dequantization: q converted to fp16 (exact), times the fp16 scale (rounded to fp16),
// plus the fp16 zero (rounded to fp16).
__device__ __forceinline__ float dequant(int u, bool gptq, __half const* scales, __half const* zeros, size_t idx)
{
    int const q = gptq ? u - 8 : u;
    float w = __half2float(__float2half_rn(static_cast<float>(q) * __half2float(scales[idx])));
    if (zeros != nullptr)
        w = __half2float(__float2half_rn(w + __half2float(zeros[idx])));
    return w;
}

__global__ void reference_kernel(__half const* A, uint8_t const* q, bool gptq, __half const* scales,
    __half const* zeros, double* ref, int m, int n, int k, int group_size)
{
    int const col = blockIdx.x * blockDim.x + threadIdx.x;
    int const row = blockIdx.y;
    if (col >= n || row >= m)
        return;
    double acc = 0.0;
    for (int kk = 0; kk < k; ++kk)
    {
        size_t const sidx = static_cast<size_t>(kk / group_size) * n + col;
        float const w = dequant(nibble(q, col, kk, k), gptq, scales, zeros, sidx);
        acc += static_cast<double>(__half2float(A[static_cast<size_t>(row) * k + kk])) * w;
    }
    ref[static_cast<size_t>(row) * n + col] = acc;
}

// W16 [n, k] row-major (the layout of the unpacked weights), for cuBLAS.
__global__ void dequant_to_half_kernel(uint8_t const* q, bool gptq, __half const* scales, __half const* zeros,
    __half* w, int n, int k, int group_size)
{
    size_t const count = static_cast<size_t>(k) * n;
    size_t const stride = static_cast<size_t>(gridDim.x) * blockDim.x;
    for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride)
    {
        int const col = static_cast<int>(i / k);
        int const kk = static_cast<int>(i % k);
        size_t const sidx = static_cast<size_t>(kk / group_size) * n + col;
        w[i] = __float2half_rn(dequant(nibble(q, col, kk, k), gptq, scales, zeros, sidx));
    }
}

struct CmpResult
{
    unsigned int max_err_bits; // non-negative floats order like unsigned ints
    unsigned int max_ref_bits;
    unsigned long long non_finite;
    double err_sq, ref_sq;
};

__device__ __forceinline__ double to_double(double x)
{
    return x;
}

__device__ __forceinline__ double to_double(__half x)
{
    return static_cast<double>(__half2float(x));
}

template <typename RefT>
__global__ void compare_kernel(__half const* out, RefT const* ref, size_t count, CmpResult* res)
{
    float max_err = 0.f, max_ref = 0.f;
    double err_sq = 0.0, ref_sq = 0.0;
    unsigned long long bad = 0;
    size_t const stride = static_cast<size_t>(gridDim.x) * blockDim.x;
    for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += stride)
    {
        double const o = static_cast<double>(__half2float(out[i]));
        double const r = to_double(ref[i]);
        max_ref = fmaxf(max_ref, static_cast<float>(fabs(r)));
        ref_sq += r * r;
        if (!isfinite(o))
        {
            ++bad;
            continue;
        }
        max_err = fmaxf(max_err, static_cast<float>(fabs(o - r)));
        err_sq += (o - r) * (o - r);
    }
    atomicMax(&res->max_err_bits, __float_as_uint(max_err));
    atomicMax(&res->max_ref_bits, __float_as_uint(max_ref));
    atomicAdd(&res->err_sq, err_sq);
    atomicAdd(&res->ref_sq, ref_sq);
    if (bad)
        atomicAdd(&res->non_finite, bad);
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
        return;
    fill_uniform_kernel<<<grid_for(count), 256, 0, s>>>(b.get<__half>(), count, lo, hi, seed);
    CUDA_CHECK(cudaGetLastError());
}

struct Compared
{
    double rel_err;     // ||C - ref|| / ||ref||
    double max_rel_err; // max|C - ref| / max|ref|
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
    return {std::sqrt(r.err_sq) / std::max(std::sqrt(r.ref_sq), 1e-300),
        static_cast<double>(max_err) / std::max(static_cast<double>(max_ref), 1e-30), r.non_finite};
}

// ---------------------------------------------------------------------------------------------------
// Timing (the TensorRT-LLM tree's method)

class Timer
{
public:
    static constexpr int kMaxSamples = 64;

    explicit Timer(cudaStream_t s)
        : stream_(s)
        , events_(kMaxSamples + 1)
    {
        for (auto& e : events_)
            CUDA_CHECK(cudaEventCreate(&e));
    }

    Timer(Timer const&) = delete;
    Timer& operator=(Timer const&) = delete;

    ~Timer()
    {
        for (auto& e : events_)
            cudaEventDestroy(e);
    }

    // Median per-launch time in microseconds. launch(i) enqueues launch number i on the stream.
    // last_host_us(): host time per launch while the samples were queued (the library's launch cost).
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
        // More warm-up, >= ~10 ms of back-to-back launches, so that clocks have settled.
        int const more = std::min(static_cast<int>(std::ceil(10000.0 / est_us)) - warmup, 2000);
        for (int i = 0; i < more; ++i)
            launch(it++);

        // Launches per sample: each sample >= ~25 us of GPU time; at most ~512 launches queued in all.
        int per = static_cast<int>(std::ceil(25.0 / est_us));
        per = std::max(1, std::min({per, 50, 512 / samples}));

        // Hold the GPU while everything is queued, so the samples see back-to-back GPU execution and
        // not the host's launch cost. If queueing took longer than the hold (the GPU may have waited
        // for the host), measure again with a longer hold.
        double spin_us = std::min(2.0 * host_us * per * samples + 50.0, 500000.0);
        for (int attempt = 0;; ++attempt)
        {
            auto const q0 = std::chrono::steady_clock::now();
            spin_kernel<<<1, 1, 0, stream_>>>(static_cast<unsigned long long>(spin_us * 1e3));
            CUDA_CHECK(cudaGetLastError());
            CUDA_CHECK(cudaEventRecord(events_[0], stream_));
            for (int sidx = 0; sidx < samples; ++sidx)
            {
                for (int p = 0; p < per; ++p)
                    launch(it++);
                CUDA_CHECK(cudaEventRecord(events_[sidx + 1], stream_));
            }
            double const queued_us
                = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - q0).count();
            CUDA_CHECK(cudaStreamSynchronize(stream_));
            last_host_us_ = queued_us / (per * samples);
            if (queued_us < 0.9 * spin_us || attempt == 2 || spin_us >= 500000.0)
                break;
            spin_us = std::min(2.0 * queued_us + 50.0, 500000.0);
        }
        std::vector<double> t(samples);
        for (int sidx = 0; sidx < samples; ++sidx)
        {
            CUDA_CHECK(cudaEventElapsedTime(&ms, events_[sidx], events_[sidx + 1]));
            t[sidx] = 1e3 * ms / per;
        }
        std::sort(t.begin(), t.end());
        return samples % 2 ? t[samples / 2] : 0.5 * (t[samples / 2 - 1] + t[samples / 2]);
    }

    double last_host_us() const
    {
        return last_host_us_;
    }

private:
    cudaStream_t stream_;
    std::vector<cudaEvent_t> events_;
    double last_host_us_ = NAN;
};

// ---------------------------------------------------------------------------------------------------
// Results and JSON

struct CheckRow
{
    std::string op;   // style
    std::string path; // "config", "heuristic", "upstream", "tuned"
    int config;       // index in list_configs() of the config that ran (-1 unknown)
    std::string name;
    int m, n, k, group_size;
    double rel_err = NAN, max_rel_err = NAN;
    bool ok = false;
    std::string error;
};

struct BenchRow
{
    std::string op;
    int m, n, k, group_size;
    int best_config = -1;
    std::string best_name;
    bool profiled = true;
    double us = NAN, cublas_us = NAN, speedup = NAN, tbps = NAN, rel_err_vs_cublas = NAN;
    double host_us = NAN; // host time per mm() call of the best config (launch cost, hidden when queued)
    double auto_us = NAN, auto_tbps = NAN, auto_speedup = NAN, auto_vs_best = NAN, auto_rel_err_vs_cublas = NAN;
    int auto_config = -1;
    std::string auto_choice;
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
                o += c;
        }
    }
    return o + "\"";
}

std::string json_num(double x)
{
    if (!std::isfinite(x))
        return "null";
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.6g", x);
    return buf;
}

std::string version_str(int v)
{
    return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

int config_index(QuantStyle st, std::string const& name)
{
    auto const cfgs = machete_sm90::list_configs(st);
    auto it = std::find(cfgs.begin(), cfgs.end(), name);
    return it == cfgs.end() ? -1 : static_cast<int>(it - cfgs.begin());
}

// The configs a run covers: --config NAME alone, or every compiled one.
std::vector<std::string> configs_for(QuantStyle st, std::string const& only)
{
    if (!only.empty())
        return {only};
    return machete_sm90::list_configs(st);
}

void print_configs(std::vector<StyleDesc> const& styles)
{
    for (auto const& sd : styles)
    {
        auto const cfgs = machete_sm90::list_configs(sd.style);
        std::printf("  configs of %s:\n", sd.key);
        for (size_t i = 0; i < cfgs.size(); ++i)
            std::printf("    [%2zu] %s\n", i, cfgs[i].c_str());
    }
}

// ---------------------------------------------------------------------------------------------------
// Check

struct CheckCtx
{
    cudaStream_t stream;
    double tol;
    std::string only_config;
    bool run_tuned; // not with --tactics: the check's shapes stay out of the user's tactics file
    std::vector<CheckRow> rows;
    std::vector<ApiCheck> api;
};

struct CaseData
{
    StyleDesc sd;
    int m, n, k, gs;
    DevBuf Q, B, A, S, Z, C, Ref, Res, Ws;
    size_t ws_bytes;
};

CaseData make_case(CheckCtx& ctx, StyleDesc const& sd, int group_size, int m, int n, int k, uint64_t seed)
{
    cudaStream_t const s = ctx.stream;
    bool const awq = sd.style == QuantStyle::Awq;
    int const gs = group_size == -1 ? k : group_size;
    size_t const groups = static_cast<size_t>(k / gs);
    size_t const wbytes = static_cast<size_t>(k) * n / 2;
    size_t const ws_bytes = machete_sm90::workspace_size(sd.style, m, n, k, gs);
    CaseData d{sd, m, n, k, gs, DevBuf(wbytes), DevBuf(wbytes), DevBuf(sizeof(__half) * m * k),
        DevBuf(sizeof(__half) * groups * n), DevBuf(awq ? sizeof(__half) * groups * n : 0),
        DevBuf(sizeof(__half) * m * n), DevBuf(sizeof(double) * m * n), DevBuf(sizeof(CmpResult)), DevBuf(ws_bytes),
        ws_bytes};
    fill_bytes_kernel<<<grid_for(wbytes), 256, 0, s>>>(d.Q.get<uint8_t>(), wbytes, seed ^ 0x9);
    CUDA_CHECK(cudaGetLastError());
    fill_uniform(d.A, -1.f, 1.f, seed ^ 0xA, s);
    fill_uniform(d.S, 1.f / 16, 3.f / 16, seed ^ 0x5, s);
    if (awq)
    {
        fill_zeros_kernel<<<grid_for(groups * n), 256, 0, s>>>(
            d.Z.get<__half>(), d.S.get<__half>(), groups * n, seed ^ 0x2);
        CUDA_CHECK(cudaGetLastError());
    }
    machete_sm90::prepack(sd.style, d.B.get(), d.Q.get(), n, k, s);
    reference_kernel<<<dim3((n + 127) / 128, m), 128, 0, s>>>(d.A.get<__half>(), d.Q.get<uint8_t>(),
        sd.style == QuantStyle::Gptq, d.S.get<__half>(), d.Z.get<__half>(), d.Ref.get<double>(), m, n, k, gs);
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaStreamSynchronize(s));
    return d;
}

// Runs one path into a NaN-poisoned C and compares with the reference; run() returns the name of the
// config that ran.
void run_case(CheckCtx& ctx, CaseData& d, char const* path, std::function<std::string()> const& run)
{
    cudaStream_t const s = ctx.stream;
    CheckRow row{d.sd.key, path, -1, "", d.m, d.n, d.k, d.gs};
    CUDA_CHECK(cudaMemsetAsync(d.C.get(), 0xFF, d.C.bytes(), s)); // 0xFFFF = fp16 NaN
    try
    {
        row.name = run();
        row.config = config_index(d.sd.style, row.name);
        Compared const c = compare(d.C.get<__half>(), d.Ref.get<double>(), static_cast<size_t>(d.m) * d.n, d.Res, s);
        row.rel_err = c.rel_err;
        row.max_rel_err = c.max_rel_err;
        row.ok = c.non_finite == 0 && c.rel_err <= ctx.tol;
        if (c.non_finite)
            row.error = std::to_string(c.non_finite) + " non-finite outputs";
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
    std::printf("  %-4s %-9s gs=%-5d m=%-5d n=%-5d k=%-5d rel_err=%-10.3e max_rel_err=%-10.3e %s  %s%s%s\n",
        row.op.c_str(), row.path.c_str(), d.gs, d.m, d.n, d.k, row.rel_err, row.max_rel_err, row.ok ? "ok" : "FAIL",
        row.name.c_str(), row.error.empty() ? "" : "  ", row.error.c_str());
    ctx.rows.push_back(std::move(row));
}

void check_case(CheckCtx& ctx, StyleDesc const& sd, int gs, int m, int n, int k, uint64_t seed)
{
    CaseData d = make_case(ctx, sd, gs, m, n, k, seed);
    auto const st = sd.style;
    auto A = [&] { return d.A.get<__half>(); };
    auto S = [&] { return d.S.get<__half>(); };
    auto Z = [&] { return st == QuantStyle::Awq ? d.Z.get<__half>() : nullptr; };
    for (std::string const& name : configs_for(st, ctx.only_config))
    {
        run_case(ctx, d, "config",
            [&]
            {
                machete_sm90::mm(st, A(), d.B.get(), S(), Z(), d.C.get<__half>(), m, n, k, d.gs, d.Ws.get(),
                    d.ws_bytes, ctx.stream, name.c_str());
                return name;
            });
    }
    run_case(ctx, d, "heuristic",
        [&]
        {
            machete_sm90::mm(st, A(), d.B.get(), S(), Z(), d.C.get<__half>(), m, n, k, d.gs, d.Ws.get(), d.ws_bytes,
                ctx.stream);
            return machete_sm90::heuristic_config(st, m, n, k, d.gs);
        });
    run_case(ctx, d, "upstream",
        [&]
        {
            machete_sm90::mm_upstream(st, A(), d.B.get(), S(), Z(), d.C.get<__half>(), m, n, k, d.gs, ctx.stream);
            return machete_sm90::heuristic_config(st, m, n, k, d.gs);
        });
    if (!ctx.run_tuned)
        return;
    run_case(ctx, d, "tuned",
        [&]
        {
            machete_sm90::mm_tuned(st, A(), d.B.get(), S(), Z(), d.C.get<__half>(), m, n, k, d.gs, d.Ws.get(),
                d.ws_bytes, ctx.stream);
            return machete_sm90::tactic(st, m, n, k, d.gs);
        });
}

// Arguments the API must refuse with std::invalid_argument before anything runs.
void check_api(CheckCtx& ctx, std::vector<StyleDesc> const& styles)
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
        std::printf("  api: %-52s %s  (%s)\n", a.what.c_str(), a.ok ? "ok" : "FAIL", a.detail.c_str());
        ctx.api.push_back(std::move(a));
    };
    DevBuf buf(1 << 20);
    auto* h = buf.get<__half>();
    QuantStyle const st = styles.front().style;
    __half* z = st == QuantStyle::Awq ? h : nullptr;
    size_t const ws = buf.bytes();
    expect_invalid("unknown config name",
        [&] { machete_sm90::mm(st, h, h, h, z, h, 16, 256, 256, 128, h, ws, ctx.stream, "no_such_config"); });
    expect_invalid("n not a multiple of 128",
        [&] { machete_sm90::mm(st, h, h, h, z, h, 16, 200, 256, 128, h, ws, ctx.stream); });
    expect_invalid("k not a multiple of 64",
        [&] { machete_sm90::mm(st, h, h, h, z, h, 16, 256, 200, 128, h, ws, ctx.stream); });
    expect_invalid("group size that does not divide k",
        [&] { machete_sm90::mm(st, h, h, h, z, h, 16, 256, 256, 96, h, ws, ctx.stream); });
    expect_invalid("zeros missing / extra for the style",
        [&] { machete_sm90::mm(st, h, h, h, st == QuantStyle::Awq ? nullptr : h, h, 16, 256, 256, 128, h, ws,
                  ctx.stream); });
    // Only where the config needs a workspace at all (stream-K reduction space at a large shape).
    std::string const big = machete_sm90::heuristic_config(st, 4096, 28672, 8192, 128);
    if (machete_sm90::workspace_size(st, 4096, 28672, 8192, 128, big.c_str()) > 0)
        expect_invalid("workspace too small",
            [&] { machete_sm90::mm(st, h, h, h, z, h, 4096, 28672, 8192, 128, h, 0, ctx.stream, big.c_str()); });
    expect_invalid("unknown quant style name", [&] { (void) machete_sm90::parse_style("int4"); });
}

struct Shape
{
    int m, n, k;
};

bool run_check(CheckCtx& ctx, std::vector<StyleDesc> const& styles, std::vector<Shape> const& shapes,
    std::vector<int> const& group_sizes)
{
    std::printf("== check (rel_err = ||C - ref|| / ||ref||, tolerance %.1e)\n", ctx.tol);
    print_configs(styles);
    uint64_t seed = 0x5EED0000;
    for (auto const& sd : styles)
        for (int gs : group_sizes)
            for (auto const& sh : shapes)
                check_case(ctx, sd, gs, sh.m, sh.n, sh.k, ++seed);
    std::printf("-- API argument checks\n");
    check_api(ctx, styles);

    size_t failed = 0, api_failed = 0;
    double worst = 0.0;
    for (auto const& r : ctx.rows)
    {
        failed += !r.ok;
        if (std::isfinite(r.rel_err))
            worst = std::max(worst, r.rel_err);
    }
    for (auto const& a : ctx.api)
        api_failed += !a.ok;
    std::printf("== check: %zu runs, %zu failed, worst rel_err %.3e; api checks %zu, %zu failed\n\n", ctx.rows.size(),
        failed, worst, ctx.api.size(), api_failed);
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
    std::string only_config;
    bool use_tactics;
    int profiled_shapes = 0;
    std::vector<BenchRow> rows;
};

int rotation_count(size_t per_copy, size_t l2_bytes, size_t budget)
{
    size_t r = (2 * l2_bytes + per_copy - 1) / per_copy + 1;
    r = std::max<size_t>(r, 2);
    r = std::min<size_t>(r, std::max<size_t>(1, budget / std::max<size_t>(per_copy, 1)));
    return static_cast<int>(std::min<size_t>(r, 256));
}

struct W4Set
{
    DevBuf A, B, S, Z, C;
};

struct F16Set
{
    DevBuf A, W, C;
};

void bench_shape(BenchCtx& ctx, StyleDesc const& sd, int m, int n, int k, int gs, DevBuf const& B0, DevBuf const& S0,
    DevBuf const& Z0, DevBuf const& W16, uint64_t seed)
{
    cudaStream_t const s = ctx.stream;
    QuantStyle const st = sd.style;
    bool const awq = st == QuantStyle::Awq;
    BenchRow row;
    row.op = sd.key;
    row.m = m, row.n = n, row.k = k, row.group_size = gs;

    size_t const a_bytes = sizeof(__half) * m * k, c_bytes = sizeof(__half) * m * n;
    size_t const ws4 = a_bytes + B0.bytes() + S0.bytes() + (awq ? Z0.bytes() : 0) + c_bytes;
    size_t const ws16 = a_bytes + W16.bytes() + c_bytes;
    size_t free_b = 0, total_b = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
    int const r4 = rotation_count(ws4, ctx.l2_bytes, free_b * 2 / 5);
    int const r16 = rotation_count(ws16, ctx.l2_bytes, free_b * 2 / 5);

    DevBuf A0(a_bytes);
    fill_uniform(A0, -1.f, 1.f, seed, s);
    std::vector<W4Set> w4(r4);
    for (auto& x : w4)
    {
        x.A = DevBuf(a_bytes);
        x.B = DevBuf(B0.bytes());
        x.S = DevBuf(S0.bytes());
        x.Z = DevBuf(awq ? Z0.bytes() : 0);
        x.C = DevBuf(c_bytes);
        CUDA_CHECK(cudaMemcpyAsync(x.A.get(), A0.get(), a_bytes, cudaMemcpyDeviceToDevice, s));
        CUDA_CHECK(cudaMemcpyAsync(x.B.get(), B0.get(), B0.bytes(), cudaMemcpyDeviceToDevice, s));
        CUDA_CHECK(cudaMemcpyAsync(x.S.get(), S0.get(), S0.bytes(), cudaMemcpyDeviceToDevice, s));
        if (awq)
            CUDA_CHECK(cudaMemcpyAsync(x.Z.get(), Z0.get(), Z0.bytes(), cudaMemcpyDeviceToDevice, s));
    }
    size_t const ws_bytes = machete_sm90::workspace_size(st, m, n, k, gs);
    DevBuf ws(ws_bytes);
    CUDA_CHECK(cudaStreamSynchronize(s));

    Timer timer(s);
    auto launch_cfg = [&](std::string const& name)
    {
        return [&, name](int i)
        {
            W4Set const& x = w4[i % r4];
            machete_sm90::mm(st, x.A.get<__half>(), x.B.get(), x.S.get<__half>(), awq ? x.Z.get<__half>() : nullptr,
                x.C.get<__half>(), m, n, k, gs, ws.get(), ws_bytes, s, name.empty() ? nullptr : name.c_str());
        };
    };

    // The config: from the tactics table (no profiling), else a sweep over every config.
    std::string const known = ctx.use_tactics && ctx.only_config.empty() ? machete_sm90::tactic(st, m, n, k, gs) : "";
    std::vector<std::string> const sweep = known.empty() ? configs_for(st, ctx.only_config) : std::vector<std::string>{known};
    row.profiled = known.empty() && ctx.only_config.empty();
    double best_sweep = INFINITY;
    std::string failures;
    for (std::string const& name : sweep)
    {
        try
        {
            double const us = sweep.size() == 1 ? 0.0 : timer.median_us(launch_cfg(name), 3, 15);
            if (us < best_sweep)
            {
                best_sweep = us;
                row.best_name = name;
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
            failures += " " + name + ": " + e.what() + ";";
        }
    }
    if (!failures.empty())
        std::printf("  note: %s m=%d n=%d k=%d failing configs:%s\n", sd.key, m, n, k, failures.c_str());
    if (row.best_name.empty())
    {
        row.error = "no config ran:" + failures;
        std::printf("  %-4s %-5d %-6d %-6d ERROR %s\n", sd.key, m, n, k, row.error.c_str());
        ctx.rows.push_back(std::move(row));
        return;
    }
    row.best_config = config_index(st, row.best_name);
    row.us = timer.median_us(launch_cfg(row.best_name), 5, 50);
    row.host_us = timer.last_host_us();
    row.tbps = static_cast<double>(ws4) / (row.us * 1e-6) / 1e12;
    if (row.profiled)
    {
        ++ctx.profiled_shapes;
        if (ctx.use_tactics)
            machete_sm90::set_tactic(st, m, n, k, gs, row.best_name, row.us);
    }

    // The heuristic (mm with no config).
    try
    {
        row.auto_choice = machete_sm90::heuristic_config(st, m, n, k, gs);
        row.auto_config = config_index(st, row.auto_choice);
        row.auto_us = timer.median_us(launch_cfg(""), 5, 50);
        row.auto_tbps = static_cast<double>(ws4) / (row.auto_us * 1e-6) / 1e12;
        row.auto_vs_best = row.auto_us / row.us;
    }
    catch (Fatal const&)
    {
        throw;
    }
    catch (std::exception const& e)
    {
        CUDA_CHECK(cudaStreamSynchronize(s));
        (void) cudaGetLastError();
        row.error = std::string("heuristic: ") + e.what();
    }

    // cuBLAS on the dequantized weights W16 [n, k] row-major: C^T[n, m] = W16 (op T of the column-major
    // k x n view) x A^T (column-major k x m), C^T column-major with leading dim n.
    std::vector<F16Set> f16(r16);
    for (auto& x : f16)
    {
        x.A = DevBuf(a_bytes);
        x.W = DevBuf(W16.bytes());
        x.C = DevBuf(c_bytes);
        CUDA_CHECK(cudaMemcpyAsync(x.A.get(), A0.get(), a_bytes, cudaMemcpyDeviceToDevice, s));
        CUDA_CHECK(cudaMemcpyAsync(x.W.get(), W16.get(), W16.bytes(), cudaMemcpyDeviceToDevice, s));
    }
    CUDA_CHECK(cudaStreamSynchronize(s));
    float const alpha = 1.f, beta = 0.f;
    auto cublas_launch = [&](int i)
    {
        F16Set const& x = f16[i % r16];
        CUBLAS_CHECK(cublasGemmEx(ctx.cublas, CUBLAS_OP_T, CUBLAS_OP_N, n, m, k, &alpha, x.W.get(), CUDA_R_16F, k,
            x.A.get(), CUDA_R_16F, k, &beta, x.C.get(), CUDA_R_16F, n, CUBLAS_COMPUTE_32F,
            CUBLAS_GEMM_DEFAULT_TENSOR_OP));
    };
    row.cublas_us = timer.median_us(cublas_launch, 5, 50);
    row.speedup = row.cublas_us / row.us;
    row.auto_speedup = row.cublas_us / row.auto_us;
    cublas_launch(0); // f16[0].C = the cuBLAS result

    DevBuf res(sizeof(CmpResult));
    auto vs_cublas = [&](std::function<void(int)> const& launch) -> double
    {
        CUDA_CHECK(cudaMemsetAsync(w4[0].C.get(), 0xFF, c_bytes, s));
        launch(0);
        Compared const c = compare(w4[0].C.get<__half>(), f16[0].C.get<__half>(), static_cast<size_t>(m) * n, res, s);
        return c.non_finite ? NAN : c.rel_err;
    };
    row.rel_err_vs_cublas = vs_cublas(launch_cfg(row.best_name));
    if (std::isfinite(row.auto_us))
        row.auto_rel_err_vs_cublas = vs_cublas(launch_cfg(""));
    std::string warn;
    if (!(row.rel_err_vs_cublas <= ctx.tol))
        warn += "  WARNING: best config differs from cuBLAS";
    if (std::isfinite(row.auto_us) && !(row.auto_rel_err_vs_cublas <= ctx.tol))
        warn += "  WARNING: heuristic differs from cuBLAS";
    if (row.auto_vs_best > 1.10)
        warn += "  NOTE: heuristic > 10% slower than the best config";
    if (!row.error.empty())
        warn += "  ERROR " + row.error;
    std::printf("  %-4s %-5d %-6d %-6d %-3d %9.2f %6.1f %-3d %9.2f %6.3f %9.2f %6.2f %6.2f %6.3f %8.1e %s %3d/%-3d %.30s%s\n",
        sd.key, m, n, k, row.best_config, row.us, row.host_us, row.auto_config, row.auto_us, row.auto_vs_best, row.cublas_us,
        row.speedup, row.auto_speedup, row.tbps, row.rel_err_vs_cublas, row.profiled ? "prof" : "tact", r4, r16,
        row.best_name.c_str(), warn.c_str());
    ctx.rows.push_back(std::move(row));
}

bool run_bench(BenchCtx& ctx, std::vector<StyleDesc> const& styles, std::vector<Shape> const& shapes, int gs)
{
    std::printf("== bench (median per-launch time in us; group size %d)\n"
                "  cfg/us: best config (index in the list, time); host: host us per call; h/h_us: the heuristic's config and time;\n"
                "  h/best = h_us / us; cublas_us: cuBLAS FP16 on the dequantized weights; x_best, x_h: speedups\n"
                "  over cuBLAS; TB/s of the best; vs_cublas: ||C_best - C_cublas|| / ||C_cublas||; src: prof(iled)\n"
                "  or tact(ics file); rot: rotation copies (w4a16/fp16)\n",
        gs);
    print_configs(styles);
    std::printf("  %-4s %-5s %-6s %-6s %-3s %9s %6s %-3s %9s %6s %9s %6s %6s %6s %8s %s %7s %s\n", "op", "m", "n", "k",
        "cfg", "us", "host", "h", "h_us", "h/best", "cublas_us", "x_best", "x_h", "TB/s", "vs_cubl", "src ", "rot", "best");
    cudaStream_t const s = ctx.stream;
    uint64_t seed = 0xBE7C0000;
    for (auto const& sd : styles)
    {
        bool const awq = sd.style == QuantStyle::Awq;
        // Shapes grouped by (n, k): weights made once per (n, k).
        std::vector<std::pair<int, int>> nks;
        for (auto const& sh : shapes)
            if (std::find(nks.begin(), nks.end(), std::make_pair(sh.n, sh.k)) == nks.end())
                nks.emplace_back(sh.n, sh.k);
        for (auto const& nk : nks)
        {
            int const n = nk.first, k = nk.second;
            int const g = gs == -1 ? k : gs;
            size_t const groups = static_cast<size_t>(k / g);
            size_t const wbytes = static_cast<size_t>(k) * n / 2;
            DevBuf B0(wbytes), S0(sizeof(__half) * groups * n), Z0(awq ? sizeof(__half) * groups * n : 0);
            DevBuf W16(sizeof(__half) * k * n);
            {
                DevBuf q(wbytes);
                fill_bytes_kernel<<<grid_for(wbytes), 256, 0, s>>>(q.get<uint8_t>(), wbytes, ++seed);
                CUDA_CHECK(cudaGetLastError());
                fill_uniform(S0, 1.f / 16, 3.f / 16, seed ^ 0x5, s);
                if (awq)
                {
                    fill_zeros_kernel<<<grid_for(groups * n), 256, 0, s>>>(
                        Z0.get<__half>(), S0.get<__half>(), groups * n, seed ^ 0x2);
                    CUDA_CHECK(cudaGetLastError());
                }
                machete_sm90::prepack(sd.style, B0.get(), q.get(), n, k, s);
                dequant_to_half_kernel<<<grid_for(static_cast<size_t>(k) * n), 256, 0, s>>>(q.get<uint8_t>(),
                    !awq, S0.get<__half>(), Z0.get<__half>(), W16.get<__half>(), n, k, g);
                CUDA_CHECK(cudaGetLastError());
                CUDA_CHECK(cudaStreamSynchronize(s));
            }
            for (auto const& sh : shapes)
                if (sh.n == n && sh.k == k)
                    bench_shape(ctx, sd, sh.m, n, k, g, B0, S0, Z0, W16, seed * 31 + sh.m);
        }
    }
    bool ok = true;
    double worst = 0.0;
    for (auto const& r : ctx.rows)
    {
        ok = ok && r.best_config >= 0;
        if (std::isfinite(r.auto_vs_best))
            worst = std::max(worst, r.auto_vs_best);
    }
    std::printf("== bench: %zu shapes, %d profiled; heuristic worst h/best %.3f\n\n", ctx.rows.size(),
        ctx.profiled_shapes, worst);
    return ok;
}

// Device-to-device copy of 1 GiB, read + write bytes over the median time.
double hbm_copy_tbps(cudaStream_t s)
{
    size_t const bytes = size_t(1) << 30;
    DevBuf a(bytes), b(bytes);
    CUDA_CHECK(cudaMemsetAsync(a.get(), 1, bytes, s));
    Timer t(s);
    double const us = t.median_us(
        [&](int i)
        {
            if (i % 2)
                CUDA_CHECK(cudaMemcpyAsync(a.get(), b.get(), bytes, cudaMemcpyDeviceToDevice, s));
            else
                CUDA_CHECK(cudaMemcpyAsync(b.get(), a.get(), bytes, cudaMemcpyDeviceToDevice, s));
        },
        3, 11);
    return 2.0 * bytes / (us * 1e-6) / 1e12;
}

// ---------------------------------------------------------------------------------------------------
// main

bool write_json(std::string const& path, cudaDeviceProp const& prop, int driver, int runtime, double tol,
    double hbm_tbps, std::string const& tactics_path, int profiled, std::vector<CheckRow> const& checks,
    std::vector<ApiCheck> const& api, std::vector<BenchRow> const& bench, bool ok)
{
    std::string j = "{\n";
    j += "  \"backend\": \"machete_sm90\",\n";
    j += "  \"upstream\": " + json_str(machete_sm90::upstream_version()) + ",\n";
    j += "  \"gpu\": " + json_str(prop.name) + ",\n";
    j += "  \"gpu_key\": " + json_str(machete_sm90::gpu_key()) + ",\n";
    j += "  \"cc\": " + json_str(std::to_string(prop.major) + "." + std::to_string(prop.minor)) + ",\n";
    j += "  \"driver\": " + json_str(version_str(driver)) + ",\n";
    j += "  \"cuda_runtime\": " + json_str(version_str(runtime)) + ",\n";
    j += "  \"l2_bytes\": " + std::to_string(prop.l2CacheSize) + ",\n";
    j += "  \"hbm_copy_tbps\": " + json_num(hbm_tbps) + ",\n";
    j += "  \"tolerance\": " + json_num(tol) + ",\n";
    j += "  \"has_gemv\": false,\n  \"gemv_max_m\": 0,\n";
    j += "  \"tactics_file\": " + (tactics_path.empty() ? std::string("null") : json_str(tactics_path)) + ",\n";
    j += "  \"profiled_shapes\": " + std::to_string(profiled) + ",\n";
    j += "  \"profile_runs\": " + std::to_string(machete_sm90::profile_count()) + ",\n";
    j += "  \"check\": [";
    for (size_t i = 0; i < checks.size(); ++i)
    {
        auto const& r = checks[i];
        j += std::string(i ? ",\n" : "\n") + "    {\"op\": " + json_str(r.op) + ", \"config\": " + std::to_string(r.config)
            + ", \"name\": " + json_str(r.name) + ", \"m\": " + std::to_string(r.m) + ", \"n\": " + std::to_string(r.n)
            + ", \"k\": " + std::to_string(r.k) + ", \"group_size\": " + std::to_string(r.group_size)
            + ", \"bias\": false, \"path\": " + json_str(r.path) + ", \"rel_err\": " + json_num(r.rel_err)
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
            + json_str(r.best_name) + ", \"profiled\": " + (r.profiled ? "true" : "false") + ", \"us\": "
            + json_num(r.us) + ", \"host_us\": " + json_num(r.host_us) + ", \"cublas_us\": " + json_num(r.cublas_us) + ", \"speedup\": " + json_num(r.speedup)
            + ", \"tbps\": " + json_num(r.tbps) + ", \"rel_err_vs_cublas\": " + json_num(r.rel_err_vs_cublas)
            + ", \"gemv_us\": null, \"auto_us\": " + json_num(r.auto_us) + ", \"auto_choice\": "
            + json_str(r.auto_choice) + ", \"auto_config\": " + std::to_string(r.auto_config)
            + ", \"auto_vs_best\": " + json_num(r.auto_vs_best) + ", \"auto_speedup\": " + json_num(r.auto_speedup)
            + ", \"auto_tbps\": " + json_num(r.auto_tbps) + ", \"auto_rel_err_vs_cublas\": "
            + json_num(r.auto_rel_err_vs_cublas) + (r.error.empty() ? "" : ", \"error\": " + json_str(r.error)) + "}";
    }
    j += bench.empty() ? "],\n" : "\n  ],\n";
    j += "  \"gemv_threshold\": null,\n";
    j += "  \"api_checks\": [";
    for (size_t i = 0; i < api.size(); ++i)
    {
        j += std::string(i ? ",\n" : "\n") + "    {\"what\": " + json_str(api[i].what) + ", \"ok\": "
            + (api[i].ok ? "true" : "false") + ", \"detail\": " + json_str(api[i].detail) + "}";
    }
    j += api.empty() ? "],\n" : "\n  ],\n";
    j += std::string("  \"ok\": ") + (ok ? "true" : "false") + "\n}\n";
    // Written whole to a temporary file, then renamed: never half a results file.
    std::string const tmp = path + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f)
    {
        std::fprintf(stderr, "error: cannot write %s\n", tmp.c_str());
        return false;
    }
    bool const written = std::fwrite(j.data(), 1, j.size(), f) == j.size();
    if (!((std::fclose(f) == 0) && written) || std::rename(tmp.c_str(), path.c_str()) != 0)
    {
        std::remove(tmp.c_str());
        std::fprintf(stderr, "error: cannot write %s\n", path.c_str());
        return false;
    }
    return true;
}

int real_main(int argc, char** argv)
{
    std::string styles_arg;
    bool quick = false;
    double tol = kTolerance;
    vendor_slim::BenchCli cli("machete_sm90_test",
        "Correctness check and benchmark of machete_sm90 (vLLM's Machete W4A16 GEMM for Hopper).");
    cli.add_option("--styles", "LIST", "quant styles, gptq,awq (default: check all compiled, bench gptq)",
        [&](std::string const& v) { styles_arg = v; });
    cli.add_flag("--quick", "small default shapes only (smoke run)", [&] { quick = true; });
    cli.add_option("--tol", "X", "check tolerance on ||C-ref||/||ref|| (default 2e-3)",
        [&](std::string const& v)
        {
            char* end = nullptr;
            tol = std::strtod(v.c_str(), &end);
            if (end == v.c_str() || *end != '\0' || !(tol > 0))
                throw vendor_slim::UsageError("--tol needs a positive number, got '" + v + "'");
        });
    vendor_slim::BenchOptions opt;
    int const rc = cli.run(argc, argv, opt);
    if (rc >= 0)
        return rc;

    std::vector<StyleDesc> compiled;
    for (auto const& sd : kAllStyles)
        if (machete_sm90::is_compiled(sd.style))
            compiled.push_back(sd);
    if (compiled.empty())
    {
        std::fprintf(stderr, "error: the library has no quant style compiled in\n");
        return 2;
    }
    std::vector<StyleDesc> check_styles, bench_styles;
    if (!styles_arg.empty())
    {
        size_t pos = 0;
        while (pos <= styles_arg.size())
        {
            size_t const comma = std::min(styles_arg.find(',', pos), styles_arg.size());
            std::string const key = styles_arg.substr(pos, comma - pos);
            pos = comma + 1;
            auto it = std::find_if(
                std::begin(kAllStyles), std::end(kAllStyles), [&](StyleDesc const& sd) { return key == sd.key; });
            if (it == std::end(kAllStyles))
            {
                std::fprintf(stderr, "error: unknown style '%s' (use gptq, awq)\n", key.c_str());
                return 2;
            }
            if (!machete_sm90::is_compiled(it->style))
            {
                std::fprintf(stderr, "error: style '%s' is not compiled into this library\n", key.c_str());
                return 2;
            }
            if (std::none_of(check_styles.begin(), check_styles.end(),
                    [&](StyleDesc const& sd) { return sd.style == it->style; }))
                check_styles.push_back(*it);
        }
        bench_styles = check_styles;
    }
    else
    {
        check_styles = compiled;
        bench_styles = {machete_sm90::is_compiled(QuantStyle::Gptq) ? kAllStyles[0] : compiled[0]};
    }
    if (!opt.config.empty())
    {
        for (auto const& sd : check_styles)
        {
            auto const cfgs = machete_sm90::list_configs(sd.style);
            if (std::find(cfgs.begin(), cfgs.end(), opt.config) == cfgs.end())
            {
                std::fprintf(stderr, "error: --config %s is not a config of style %s (see --list-configs)\n",
                    opt.config.c_str(), sd.key);
                return 2;
            }
        }
    }
    if (opt.list_configs)
    {
        for (auto const& sd : check_styles)
            for (auto const& c : machete_sm90::list_configs(sd.style))
                std::printf("%s\n", c.c_str());
        return 0;
    }
    if (!opt.check && !opt.bench)
        opt.check = opt.bench = true;
    if (opt.group_size != 0 && opt.group_size != -1 && opt.group_size % 64 != 0)
    {
        std::fprintf(stderr, "error: --group-size must be a multiple of 64 (or -1 = per column)\n");
        return 2;
    }

    std::vector<Shape> user_shapes;
    for (auto const& sh : opt.shapes)
    {
        if (sh.n % 128 != 0 || sh.k % 64 != 0)
        {
            std::fprintf(stderr, "error: shape %d %d %d: Machete needs n %% 128 == 0 and k %% 64 == 0\n", sh.m, sh.n,
                sh.k);
            return 2;
        }
        user_shapes.push_back({sh.m, sh.n, sh.k});
    }

    int count = 0;
    cudaError_t const cerr = cudaGetDeviceCount(&count);
    int dev = -1;
    cudaDeviceProp prop{};
    for (int d = 0; cerr == cudaSuccess && d < count && dev < 0; ++d)
    {
        CUDA_CHECK(cudaGetDeviceProperties(&prop, d));
        if (prop.major == 9 && prop.minor == 0)
            dev = d;
    }
    if (dev < 0)
    {
        std::fprintf(stderr, "error: no CUDA device with compute capability 9.0 (H100/H200) found%s%s\n",
            cerr != cudaSuccess ? ": " : "", cerr != cudaSuccess ? cudaGetErrorString(cerr) : "");
        return 2;
    }
    CUDA_CHECK(cudaSetDevice(dev));
    int driver = 0, runtime = 0;
    CUDA_CHECK(cudaDriverGetVersion(&driver));
    CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
    std::printf("GPU %d: %s, cc %d.%d, %d SMs, L2 %.1f MB, driver %s, runtime %s; %s\n", dev, prop.name, prop.major,
        prop.minor, prop.multiProcessorCount, prop.l2CacheSize / 1048576.0, version_str(driver).c_str(),
        version_str(runtime).c_str(), machete_sm90::upstream_version());

    if (!opt.tactics.empty())
    {
        try
        {
            auto const r = machete_sm90::load_tactics(opt.tactics);
            std::printf("tactics %s: %s, %zu entries%s%s\n", opt.tactics.c_str(), r.found ? "loaded" : "no file yet",
                r.entries, r.warning.empty() ? "" : "; warning: ", r.warning.c_str());
        }
        catch (std::exception const& e)
        {
            std::fprintf(stderr, "error: %s\n", e.what());
            return 2;
        }
    }

    cudaStream_t stream = nullptr;
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));

    std::vector<Shape> check_shapes = user_shapes;
    if (check_shapes.empty())
        check_shapes = quick ? std::vector<Shape>{{1, 1024, 2048}, {128, 1024, 2048}, {3, 1152, 1152}}
                             : std::vector<Shape>{{1, 1024, 2048}, {16, 1024, 2048}, {128, 1024, 2048},
                                 {1000, 1024, 2048}, {3, 1152, 1152}, {200, 1152, 1152}};
    std::vector<int> const check_groups = opt.group_size != 0 ? std::vector<int>{opt.group_size}
        : quick                                               ? std::vector<int>{128}
                                                              : std::vector<int>{64, 128};
    std::vector<Shape> bench_shapes = user_shapes;
    if (bench_shapes.empty())
    {
        std::vector<int> const ms = quick ? std::vector<int>{1, 128} : std::vector<int>{1, 2, 3, 4, 16, 64, 128, 512, 4096};
        std::vector<std::pair<int, int>> const nks = quick
            ? std::vector<std::pair<int, int>>{{4096, 4096}}
            : std::vector<std::pair<int, int>>{{4096, 4096}, {8192, 8192}, {28672, 8192}, {8192, 28672}};
        for (auto const& nk : nks)
            for (int m : ms)
                bench_shapes.push_back({m, nk.first, nk.second});
    }
    int const bench_group = opt.group_size != 0 ? opt.group_size : 128;

    bool ok = true;
    CheckCtx cctx{stream, tol, opt.config, opt.tactics.empty(), {}, {}};
    BenchCtx bctx{stream, nullptr, static_cast<size_t>(prop.l2CacheSize), tol, opt.config, !opt.tactics.empty()};
    double hbm = NAN;
    std::string fatal;
    try
    {
        if (opt.check)
        {
            ok = run_check(cctx, check_styles, check_shapes, check_groups) && ok;
            if (cctx.run_tuned)
                machete_sm90::clear_tactics();
        }
        if (opt.bench)
        {
            hbm = hbm_copy_tbps(stream);
            std::printf("HBM device-to-device copy: %.2f TB/s (read + write)\n", hbm);
            CUBLAS_CHECK(cublasCreate(&bctx.cublas));
            CUBLAS_CHECK(cublasSetStream(bctx.cublas, stream));
            ok = run_bench(bctx, bench_styles, bench_shapes, bench_group) && ok;
        }
        if (!opt.tactics.empty())
        {
            machete_sm90::save_tactics(opt.tactics);
            std::printf("tactics saved to %s; profiling in this run: %d bench shapes, %d profile() calls\n",
                opt.tactics.c_str(), bctx.profiled_shapes, machete_sm90::profile_count());
        }
    }
    catch (std::exception const& e)
    {
        fatal = e.what();
        ok = false;
        std::fprintf(stderr, "fatal: %s\n", e.what());
    }
    if (bctx.cublas)
        cublasDestroy(bctx.cublas);

    if (!opt.json.empty()
        && !write_json(opt.json, prop, driver, runtime, tol, hbm, opt.tactics, bctx.profiled_shapes, cctx.rows,
            cctx.api, bctx.rows, ok))
        ok = false;
    std::printf("%s\n", ok ? "OK" : "FAILED");
    if (!fatal.empty())
        return 2;
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
