// Runs one Machete kernel type on caller-owned buffers. Included by the regrouped impl TUs (through
// machete_sm90_impl_tail.inc) after the upstream kernel types, so it sees machete::MacheteKernelTemplate
// and the upstream create_arguments / can_implement / get_workspace_size / run, which it calls as
// vLLM's run_impl does, except that the output and the workspace are the caller's (no allocation)
// and the stream is the caller's (no PyTorch current stream).
#pragma once

#include <torch/all.h>

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "machete_sm90_detail.h"

namespace machete_sm90::detail
{

// Tensors over the caller's pointers (torch::from_blob: no copy, no ownership).
struct Views
{
    torch::Tensor A, B, D;
    std::optional<torch::Tensor> scales, zeros;
    std::optional<int64_t> group_size;
};

// target_device is given, so PyTorch does not look the pointer up (no cudaPointerGetAttributes per call).
inline torch::Tensor view(void const* p, c10::IntArrayRef sizes, torch::ScalarType dtype, torch::Device dev)
{
    return at::for_blob(const_cast<void*>(p), sizes)
        .options(torch::TensorOptions().dtype(dtype).device(dev))
        .target_device(dev)
        .make_tensor();
}

inline Views make_views(RunArgs const& a)
{
    auto const dev = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(a.device));
    Views v;
    v.A = view(a.A, {a.m, a.k}, torch::kHalf, dev);
    // Machete's prepacked B as vLLM holds it: int32 [k/8, n], contiguous.
    v.B = view(a.B, {a.k / 8, a.n}, torch::kInt, dev);
    v.D = view(a.C, {a.m, a.n}, torch::kHalf, dev);
    int64_t const groups = a.k / a.group_size;
    if (a.scales)
        v.scales = view(a.scales, {groups, a.n}, torch::kHalf, dev);
    if (a.zeros)
        v.zeros = view(a.zeros, {groups, a.n}, torch::kHalf, dev);
    v.group_size = a.group_size;
    return v;
}

template <typename MacheteKernel>
typename MacheteKernel::Arguments arguments_of(Views& v, cudaStream_t stream)
{
    return MacheteKernel::create_arguments(
        stream, v.A, v.B, v.D, v.scales, v.zeros, v.group_size, std::nullopt, std::nullopt);
}

template <typename MacheteKernel>
std::size_t workspace_of(RunArgs const& a)
{
    Views v = make_views(a);
    return MacheteKernel::get_workspace_size(arguments_of<MacheteKernel>(v, a.stream));
}

template <typename MacheteKernel>
void run_into(RunArgs const& a)
{
    Views v = make_views(a);
    auto const args = arguments_of<MacheteKernel>(v, a.stream);
    if (!MacheteKernel::can_implement(args))
        throw std::runtime_error("machete_sm90: this config cannot run m=" + std::to_string(a.m) + " n="
            + std::to_string(a.n) + " k=" + std::to_string(a.k) + " group_size=" + std::to_string(a.group_size));
    std::size_t const need = MacheteKernel::get_workspace_size(args);
    if (need > a.workspace_bytes)
        throw std::invalid_argument("machete_sm90: workspace of " + std::to_string(a.workspace_bytes)
            + " bytes, this config needs " + std::to_string(need));
    MacheteKernel::run(args, a.workspace, a.stream);
}

} // namespace machete_sm90::detail
