// The Machete backend (library machete_sm90): vLLM's Machete mixed-input GEMM, GPTQ style (uint4b8).
#include "backend.h"

#include "machete_sm90/machete_sm90.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace w4a16::detail
{
namespace
{

struct MacheteWeight : Prepared
{
    void* B = nullptr;
    __half const* scales;

    explicit MacheteWeight(__half const* s)
        : scales(s)
    {
    }

    ~MacheteWeight() override
    {
        if (B != nullptr)
        {
            (void) cudaFree(B);
        }
    }
};

constexpr auto kStyle = machete_sm90::QuantStyle::Gptq;

class Machete final : public Backend
{
public:
    std::string name() const override
    {
        return "machete";
    }

    // Only Symmetric: Machete's AWQ style subtracts pre-scaled zeros, not TensorRT-LLM's added ones.
    std::string quant_key(Quant q, int n, int k, int group) const override
    {
        bool const ok = q == Quant::Symmetric && machete_sm90::is_compiled(kStyle) && n % 128 == 0 && k % 64 == 0
            && (group == k || group % 64 == 0) && k % group == 0;
        return ok ? "u4b8" : "";
    }

    std::vector<std::string> configs(Quant q, int n, int k, int group) const override
    {
        return quant_key(q, n, k, group).empty() ? std::vector<std::string>{} : machete_sm90::list_configs(kStyle);
    }

    // The common input is signed int4, row-major [k, n] packed along n; Machete's prepack takes
    // uint4b8 (q + 8, which for a 4-bit two's complement value is q ^ 8) as [n, k] packed along k.
    std::unique_ptr<Prepared> prepare(Quant q, int8_t const* packed_host, __half const* scales, __half const* zeros,
        int k, int n, int group, cudaStream_t stream) const override
    {
        (void) q, (void) zeros, (void) group;
        size_t const bytes = static_cast<size_t>(k) * n / 2;
        std::vector<uint8_t> host(bytes, 0);
        auto const* in = reinterpret_cast<uint8_t const*>(packed_host);
        for (int r = 0; r < k; ++r)
        {
            for (int c = 0; c < n; ++c)
            {
                size_t const src = static_cast<size_t>(r) * n + c;
                unsigned const v = ((in[src / 2] >> (4 * (src % 2))) & 0xF) ^ 0x8;
                size_t const dst = static_cast<size_t>(c) * k + r;
                host[dst / 2] = static_cast<uint8_t>(host[dst / 2] | (v << (4 * (dst % 2))));
            }
        }
        auto w = std::make_unique<MacheteWeight>(scales);
        void* staging = nullptr;
        bool ok = cudaMalloc(&w->B, bytes) == cudaSuccess && cudaMalloc(&staging, bytes) == cudaSuccess
            && cudaMemcpyAsync(staging, host.data(), bytes, cudaMemcpyHostToDevice, stream) == cudaSuccess;
        if (ok)
        {
            machete_sm90::prepack(kStyle, w->B, staging, n, k, stream);
            ok = cudaStreamSynchronize(stream) == cudaSuccess;
        }
        if (staging != nullptr)
        {
            (void) cudaFree(staging);
        }
        if (!ok)
        {
            throw std::runtime_error("w4a16: machete: cannot prepare the weight on the device");
        }
        return w;
    }

    size_t workspace_size(Quant q, int m, int n, int k, int group) const override
    {
        size_t most = 0;
        for (auto const& c : configs(q, n, k, group))
        {
            most = std::max(most, machete_sm90::workspace_size(kStyle, m, n, k, group, c.c_str()));
        }
        return most;
    }

    void run(Prepared const& prepared, Quant q, std::string const& config, Problem const& p) const override
    {
        (void) q;
        auto const& w = static_cast<MacheteWeight const&>(prepared);
        machete_sm90::mm(kStyle, p.A, w.B, w.scales, nullptr, p.C, p.m, p.n, p.k, p.group, p.workspace,
            p.workspace_bytes, p.stream, config.c_str());
    }
};

} // namespace

std::unique_ptr<Backend> make_machete()
{
    return std::make_unique<Machete>();
}

} // namespace w4a16::detail
