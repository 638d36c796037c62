// Machete's schedule heuristic, asked without running a kernel.
//
// The heuristic lives in the generated per-type dispatchers (mm_dispatch_<TYPES>, in the regrouped
// dispatch TU, unchanged): with no schedule given they call the impl_* function of the schedule
// they pick. This TU compiles that same dispatch TU a second time with the namespace `machete`
// renamed, so that its impl_* calls land on the probes below, which only record the schedule name.
// The library's own copy of the dispatch TU (namespace machete) stays the one that runs kernels
// (mm_upstream). No upstream byte changes; no heuristic is re-implemented here.
#include "machete_sm90/config.h"
#include "machete_sm90_detail.h"

#include <torch/all.h>

#define machete machete_sm90_heuristic_probe
#include MACHETE_SM90_DISPATCH_TU

namespace machete
{
thread_local char const* probe_choice = nullptr;

#define MACHETE_SM90_PROBE(STYLE, TYPES, SCHEDULE)                                                             \
    torch::Tensor impl_##TYPES##_sch_##SCHEDULE(MMArgs)                                                        \
    {                                                                                                          \
        probe_choice = #SCHEDULE;                                                                              \
        return torch::Tensor();                                                                                \
    }
MACHETE_SM90_IMPLS(MACHETE_SM90_PROBE)
#undef MACHETE_SM90_PROBE
} // namespace machete

namespace machete_sm90::detail
{

// Meta tensors: the dispatchers read only sizes and the schedule option.
template <typename Dispatch>
char const* ask(Dispatch dispatch, vllm::ScalarType const& b_type, bool with_zeros, int64_t m, int64_t n, int64_t k,
    int64_t group_size)
{
    auto meta = torch::TensorOptions().device(torch::kMeta);
    torch::Tensor const A = torch::empty({m, k}, meta.dtype(torch::kHalf));
    torch::Tensor const B = torch::empty({k / 8, n}, meta.dtype(torch::kInt));
    int64_t const groups = k / group_size;
    std::optional<at::ScalarType> const out_type = at::ScalarType::Half;
    std::optional<torch::Tensor> const scales = torch::empty({groups, n}, meta.dtype(torch::kHalf));
    std::optional<torch::Tensor> const zeros
        = with_zeros ? std::optional<torch::Tensor>(torch::empty({groups, n}, meta.dtype(torch::kHalf))) : std::nullopt;
    std::optional<torch::Tensor> const none;
    machete::probe_choice = nullptr;
    dispatch(machete::MMArgs{A, B, b_type, out_type, scales, zeros, group_size, none, none, std::nullopt});
    return machete::probe_choice;
}

#define MACHETE_SM90_ASK(STYLE, TYPES)                                                                         \
    char const* heuristic_##STYLE(int64_t m, int64_t n, int64_t k, int64_t group_size)                         \
    {                                                                                                          \
        return ask(&machete::mm_dispatch_##TYPES, MACHETE_SM90_B_TYPE_##STYLE, MACHETE_SM90_ZEROS_##STYLE, m, n, \
            k, group_size);                                                                                    \
    }
MACHETE_SM90_STYLES(MACHETE_SM90_ASK)
#undef MACHETE_SM90_ASK

} // namespace machete_sm90::detail

#undef machete
