// w4a16: the dispatcher over the backend libraries (see w4a16.h). The per-shape choice is the tactics
// table itself (vendor_slim/tactics.h): one line per shape, GPU and backend; gemm() runs the fastest
// line among the weight's backends, and profiles only the backends that have no line yet.
#include "w4a16/w4a16.h"

#include "backend.h"
#include "vendor_slim/tactics.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace w4a16
{
namespace detail
{
namespace
{

std::vector<std::unique_ptr<Backend>> const& registry()
{
    static auto* r = []
    {
        auto* v = new std::vector<std::unique_ptr<Backend>>(); // never destroyed (used from static destructors)
#if W4A16_HAS_TRTLLM
        v->push_back(make_trtllm());
#endif
#if W4A16_HAS_MACHETE
        v->push_back(make_machete());
#endif
        return v;
    }();
    return *r;
}

Backend const* find_backend(std::string const& name)
{
    for (auto const& b : registry())
    {
        if (b->name() == name)
        {
            return b.get();
        }
    }
    return nullptr;
}

void check(cudaError_t e, char const* what)
{
    if (e != cudaSuccess)
    {
        throw std::runtime_error(std::string("w4a16: ") + what + ": " + cudaGetErrorString(e));
    }
}

std::string current_gpu_key()
{
    int dev = 0;
    check(cudaGetDevice(&dev), "cudaGetDevice");
    static std::mutex m;
    static std::map<int, std::string> keys;
    std::lock_guard<std::mutex> lock(m);
    auto it = keys.find(dev);
    if (it == keys.end())
    {
        cudaDeviceProp p{};
        check(cudaGetDeviceProperties(&p, dev), "cudaGetDeviceProperties");
        it = keys.emplace(dev, vendor_slim::gpu_key(p.name, p.major, p.minor, p.multiProcessorCount)).first;
    }
    return it->second;
}

struct State
{
    std::mutex mutex;          // guards table
    vendor_slim::Tactics table; // every GPU's lines (find() is told the GPU by key)
    std::set<vendor_slim::TacticKey> failed; // profiled, no config ran: not profiled again (guarded by mutex)
    std::mutex profile_mutex;  // one profiling pass at a time
    std::atomic<long long> passes{0};
};

State& state()
{
    static auto* s = new State();
    return *s;
}

// Median time of `launch` in microseconds: one warm-up, then 5 runs, each after an L2 flush.
double time_us(std::function<void()> const& launch, cudaStream_t s, void* flush, size_t flush_bytes)
{
    cudaEvent_t ev[10];
    for (auto& e : ev)
    {
        check(cudaEventCreate(&e), "cudaEventCreate");
    }
    std::vector<double> t;
    try
    {
        launch();
        check(cudaStreamSynchronize(s), "profiling warm-up");
        for (int r = 0; r < 5; ++r)
        {
            if (flush != nullptr)
            {
                check(cudaMemsetAsync(flush, r, flush_bytes, s), "L2 flush");
            }
            check(cudaEventRecord(ev[2 * r], s), "cudaEventRecord");
            launch();
            check(cudaEventRecord(ev[2 * r + 1], s), "cudaEventRecord");
        }
        check(cudaStreamSynchronize(s), "profiling");
        for (int r = 0; r < 5; ++r)
        {
            float ms = 0.f;
            check(cudaEventElapsedTime(&ms, ev[2 * r], ev[2 * r + 1]), "cudaEventElapsedTime");
            t.push_back(1e3 * ms);
        }
    }
    catch (...)
    {
        (void) cudaStreamSynchronize(s);
        (void) cudaGetLastError();
        for (auto& e : ev)
        {
            (void) cudaEventDestroy(e);
        }
        throw;
    }
    for (auto& e : ev)
    {
        (void) cudaEventDestroy(e);
    }
    std::sort(t.begin(), t.end());
    return t[2];
}

} // namespace
} // namespace detail

struct Weight::Impl
{
    Quant quant;
    int k, n, group;
    std::vector<std::pair<detail::Backend const*, std::unique_ptr<detail::Prepared>>> backends;
};

namespace
{

using detail::state;

vendor_slim::TacticKey key_for(Weight::Impl const& w, detail::Backend const& b, int m, std::string const& gpu)
{
    vendor_slim::TacticKey key;
    key.m = m, key.n = w.n, key.k = w.k, key.group = w.group;
    key.quant = b.quant_key(w.quant, w.n, w.k, w.group);
    key.gpu = gpu;
    key.backend = b.name();
    return key;
}

// The fastest line among the weight's backends, and which backends have none.
std::pair<int, vendor_slim::Tactic> lookup(Weight::Impl const& w, int m, std::string const& gpu,
    std::vector<size_t>* missing)
{
    auto& st = state();
    std::lock_guard<std::mutex> lock(st.mutex);
    int best = -1;
    vendor_slim::Tactic out;
    for (size_t i = 0; i < w.backends.size(); ++i)
    {
        auto const& b = *w.backends[i].first;
        vendor_slim::TacticKey const key = key_for(w, b, m, gpu);
        std::optional<vendor_slim::Tactic> const found = st.table.get(key);
        if (!found)
        {
            if (missing && !st.failed.count(key))
                missing->push_back(i);
            continue;
        }
        if (best < 0 || found->us < out.us)
        {
            best = static_cast<int>(i);
            out = *found;
        }
    }
    return {best, out};
}

void profile(Weight::Impl const& w, std::vector<size_t> const& which, int m, std::string const& gpu,
    detail::Problem const& p)
{
    cudaStreamCaptureStatus cap = cudaStreamCaptureStatusNone;
    detail::check(cudaStreamIsCapturing(p.stream, &cap), "cudaStreamIsCapturing");
    if (cap != cudaStreamCaptureStatusNone)
    {
        throw std::runtime_error("w4a16: gemm(): a shape seen for the first time is profiled, which cannot happen "
                                 "during CUDA graph capture; run it once before capturing (m="
            + std::to_string(m) + ")");
    }
    state().passes.fetch_add(1);
    int l2 = 0, dev = 0;
    detail::check(cudaGetDevice(&dev), "cudaGetDevice");
    void* flush = nullptr;
    size_t flush_bytes = 0;
    if (cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, dev) == cudaSuccess && l2 > 0
        && cudaMalloc(&flush, 2 * static_cast<size_t>(l2)) == cudaSuccess)
    {
        flush_bytes = 2 * static_cast<size_t>(l2);
    }
    else
    {
        flush = nullptr;
        (void) cudaGetLastError();
    }
    std::string failures;
    for (size_t i : which)
    {
        auto const& [b, prepared] = w.backends[i];
        double best_us = INFINITY;
        std::string best_cfg;
        for (std::string const& cfg : b->configs(w.quant, w.n, w.k, w.group))
        {
            try
            {
                double const us = detail::time_us([&] { b->run(*prepared, w.quant, cfg, p); }, p.stream, flush,
                    flush_bytes);
                if (us < best_us)
                {
                    best_us = us;
                    best_cfg = cfg;
                }
            }
            catch (std::invalid_argument const&)
            {
                // a config that cannot take this shape (e.g. the GEMV beyond its M range)
            }
            catch (std::exception const& e)
            {
                failures += " " + b->name() + ":" + cfg + ": " + e.what() + ";";
            }
        }
        std::lock_guard<std::mutex> lock(state().mutex);
        if (best_cfg.empty())
            state().failed.insert(key_for(w, *b, m, gpu));
        else
            state().table.put(vendor_slim::Tactic{key_for(w, *b, m, gpu), best_cfg, best_us});
    }
    if (flush != nullptr)
    {
        (void) cudaFree(flush);
    }
    if (!failures.empty())
    {
        std::fprintf(stderr, "w4a16: warning: configs that failed while profiling m=%d n=%d k=%d:%s\n", m, w.n, w.k,
            failures.c_str());
    }
}

} // namespace

std::vector<std::string> backends()
{
    std::vector<std::string> out;
    for (auto const& b : detail::registry())
    {
        out.push_back(b->name());
    }
    return out;
}

std::vector<std::string> list_configs(std::string const& backend, Quant q)
{
    detail::Backend const* b = detail::find_backend(backend);
    if (b == nullptr)
    {
        throw std::invalid_argument("w4a16: no backend named '" + backend + "' in this build");
    }
    // The names do not depend on the shape; any shape the backend takes will do.
    return b->configs(q, 4096, 4096, 128);
}

Weight::Weight(Quant q, int8_t const* packed, __half const* scales, __half const* zeros, int k, int n, int group_size,
    std::vector<std::string> const& use, cudaStream_t stream)
    : impl_(std::make_unique<Impl>())
{
    if (packed == nullptr || scales == nullptr || (q == Quant::ScalesZeros && zeros == nullptr) || k <= 0 || n <= 0
        || group_size <= 0)
    {
        throw std::invalid_argument("w4a16: Weight: null pointer or non-positive size");
    }
    impl_->quant = q, impl_->k = k, impl_->n = n, impl_->group = group_size;
    std::string refused;
    for (auto const& b : detail::registry())
    {
        if (!use.empty() && std::find(use.begin(), use.end(), b->name()) == use.end())
        {
            continue;
        }
        if (b->quant_key(q, n, k, group_size).empty())
        {
            refused += " " + b->name();
            continue;
        }
        impl_->backends.emplace_back(b.get(), b->prepare(q, packed, scales, zeros, k, n, group_size, stream));
    }
    if (impl_->backends.empty())
    {
        throw std::invalid_argument("w4a16: Weight: no backend of this build takes this weight (n=" + std::to_string(n)
            + ", k=" + std::to_string(k) + ", group " + std::to_string(group_size) + "; refused by:" + refused + ")");
    }
}

Weight::~Weight() = default;

Quant Weight::quant() const
{
    return impl_->quant;
}

int Weight::k() const
{
    return impl_->k;
}

int Weight::n() const
{
    return impl_->n;
}

int Weight::group_size() const
{
    return impl_->group;
}

Weight::Impl const& Weight::impl() const
{
    return *impl_;
}

std::vector<std::string> Weight::prepared() const
{
    std::vector<std::string> out;
    for (auto const& b : impl_->backends)
    {
        out.push_back(b.first->name());
    }
    return out;
}

size_t workspace_size(Weight const& w, int m)
{
    size_t most = 0;
    for (auto const& b : w.impl().backends)
    {
        most = std::max(most, b.first->workspace_size(w.quant(), m, w.n(), w.k(), w.group_size()));
    }
    return most;
}

void gemm(Weight const& w, __half const* A, __half* C, int m, void* workspace, size_t workspace_bytes,
    cudaStream_t stream)
{
    if (m == 0)
    {
        return;
    }
    Weight::Impl const& impl = w.impl();
    detail::Problem const p{A, C, m, impl.n, impl.k, impl.group, workspace, workspace_bytes, stream};
    std::string const gpu = detail::current_gpu_key();
    std::vector<size_t> missing;
    auto found = lookup(impl, m, gpu, &missing);
    if (!missing.empty())
    {
        std::lock_guard<std::mutex> plock(state().profile_mutex);
        missing.clear();
        lookup(impl, m, gpu, &missing); // another thread may have profiled it meanwhile
        if (!missing.empty())
        {
            profile(impl, missing, m, gpu, p);
        }
        found = lookup(impl, m, gpu, nullptr);
    }
    if (found.first < 0)
    {
        throw std::runtime_error("w4a16: gemm(): no backend config ran for m=" + std::to_string(m));
    }
    auto const& [b, prepared] = impl.backends[found.first];
    b->run(*prepared, impl.quant, found.second.config, p);
}

void run_config(Weight const& w, std::string const& backend, std::string const& config, __half const* A, __half* C,
    int m, void* workspace, size_t workspace_bytes, cudaStream_t stream)
{
    Weight::Impl const& impl = w.impl();
    for (auto const& [b, prepared] : impl.backends)
    {
        if (b->name() == backend)
        {
            b->run(*prepared, impl.quant, config,
                detail::Problem{A, C, m, impl.n, impl.k, impl.group, workspace, workspace_bytes, stream});
            return;
        }
    }
    throw std::invalid_argument("w4a16: run_config: the weight was not prepared for backend '" + backend + "'");
}

Choice choice(Weight const& w, int m)
{
    auto const found = lookup(w.impl(), m, detail::current_gpu_key(), nullptr);
    if (found.first < 0)
    {
        return {};
    }
    return Choice{found.second.key.backend, found.second.config, found.second.us};
}

int load_tactics(std::string const& path)
{
    std::string const gpu = detail::current_gpu_key();
    vendor_slim::Tactics file(gpu);
    std::string warning;
    try
    {
        if (!file.load(path, &warning))
        {
            return 0;
        }
    }
    catch (vendor_slim::TacticsError const& e)
    {
        throw std::invalid_argument(std::string("w4a16: load_tactics: ") + e.what());
    }
    if (!warning.empty())
    {
        std::fprintf(stderr, "w4a16: warning: %s\n", warning.c_str());
    }
    std::lock_guard<std::mutex> lock(state().mutex);
    int here = 0;
    for (auto const& t : file.entries())
    {
        state().table.put(t);
        here += t.key.gpu == gpu;
    }
    return here;
}

int save_tactics(std::string const& path)
{
    vendor_slim::Tactics out;
    try
    {
        out.load(path); // keep what the file holds (other GPUs, other processes' lines)
        std::lock_guard<std::mutex> lock(state().mutex);
        for (auto const& t : state().table.entries())
        {
            out.put(t);
        }
        out.save(path);
    }
    catch (vendor_slim::TacticsError const& e)
    {
        throw std::runtime_error(std::string("w4a16: save_tactics: ") + e.what());
    }
    return static_cast<int>(out.size());
}

long long profiling_passes()
{
    return state().passes.load();
}

} // namespace w4a16
