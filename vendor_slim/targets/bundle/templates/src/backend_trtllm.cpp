// The TensorRT-LLM backend (library w4a16_sm90): fpA_intB CUTLASS configs and the GEMV.
#include "backend.h"

#include "w4a16_sm90/w4a16_sm90.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace w4a16::detail
{
namespace
{

struct TrtllmWeight : Prepared
{
    void* B = nullptr;
    __half const* scales;
    __half const* zeros;

    TrtllmWeight(__half const* s, __half const* z)
        : scales(s)
        , zeros(z)
    {
    }

    ~TrtllmWeight() override
    {
        if (B != nullptr)
        {
            (void) cudaFree(B);
        }
    }
};

// Symmetric with one group over K is TensorRT-LLM's PerColumn (its Finegrained needs k / g >= 1 groups
// of a multiple of 64, which g == k also is; PerColumn is its own, faster kernel family).
bool op_for(Quant q, int k, int group, w4a16_sm90::QuantOp& op)
{
    op = q == Quant::ScalesZeros ? w4a16_sm90::QuantOp::FinegrainedZeros
        : group == k             ? w4a16_sm90::QuantOp::PerColumn
                                 : w4a16_sm90::QuantOp::Finegrained;
    return w4a16_sm90::is_compiled(op);
}

class Trtllm final : public Backend
{
public:
    std::string name() const override
    {
        return "trtllm";
    }

    std::string quant_key(Quant q, int n, int k, int group) const override
    {
        w4a16_sm90::QuantOp op{};
        if (!op_for(q, k, group, op) || n % 64 != 0 || k % 64 != 0 || group % 64 != 0 || k % group != 0)
        {
            return "";
        }
        return op == w4a16_sm90::QuantOp::PerColumn ? "pc" : op == w4a16_sm90::QuantOp::Finegrained ? "fg" : "fgz";
    }

    std::vector<std::string> configs(Quant q, int n, int k, int group) const override
    {
        w4a16_sm90::QuantOp op{};
        if (quant_key(q, n, k, group).empty() || !op_for(q, k, group, op))
        {
            return {};
        }
        return w4a16_sm90::list_configs(op);
    }

    std::unique_ptr<Prepared> prepare(Quant q, int8_t const* packed_host, __half const* scales, __half const* zeros,
        int k, int n, int group, cudaStream_t stream) const override
    {
        (void) q, (void) group;
        size_t const bytes = static_cast<size_t>(k) * n / 2;
        std::vector<int8_t> host(bytes);
        w4a16_sm90::preprocess_weights(host.data(), packed_host, k, n);
        auto w = std::make_unique<TrtllmWeight>(scales, zeros);
        if (cudaMalloc(&w->B, bytes) != cudaSuccess
            || cudaMemcpyAsync(w->B, host.data(), bytes, cudaMemcpyHostToDevice, stream) != cudaSuccess
            || cudaStreamSynchronize(stream) != cudaSuccess)
        {
            throw std::runtime_error("w4a16: trtllm: cannot copy the prepared weight to the device");
        }
        return w;
    }

    size_t workspace_size(Quant q, int m, int n, int k, int group) const override
    {
        w4a16_sm90::QuantOp op{};
        return op_for(q, k, group, op) ? w4a16_sm90::workspace_size(op, m, n, k) : 0;
    }

    void run(Prepared const& prepared, Quant q, std::string const& config, Problem const& p) const override
    {
        auto const& w = static_cast<TrtllmWeight const&>(prepared);
        w4a16_sm90::QuantOp op{};
        if (!op_for(q, p.k, p.group, op))
        {
            throw std::invalid_argument("w4a16: trtllm: this quant is not compiled into the backend");
        }
        w4a16_sm90::run_config(op, config, p.A, w.B, w.scales, q == Quant::ScalesZeros ? w.zeros : nullptr, nullptr,
            p.C, p.m, p.n, p.k, p.group, p.workspace, p.workspace_bytes, p.stream);
    }
};

} // namespace

std::unique_ptr<Backend> make_trtllm()
{
    return std::make_unique<Trtllm>();
}

} // namespace w4a16::detail
