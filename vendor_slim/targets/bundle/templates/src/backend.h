// The dispatcher's view of one backend library: what w4a16.cpp needs, implemented per backend over
// that backend's public API (backend_trtllm.cpp, backend_machete.cpp), each compiled only when the
// build has the backend (W4A16_HAS_TRTLLM, W4A16_HAS_MACHETE).
#pragma once

#include "w4a16/w4a16.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace w4a16::detail
{

struct Problem
{
    __half const* A;
    __half* C;
    int m, n, k, group;
    void* workspace;
    size_t workspace_bytes;
    cudaStream_t stream;
};

// A weight in one backend's format (device memory it owns) plus the caller's scales / zeros.
struct Prepared
{
    virtual ~Prepared() = default;
};

class Backend
{
public:
    virtual ~Backend() = default;
    // "trtllm", "machete": the BACKEND field of tactics lines.
    virtual std::string name() const = 0;
    // The QUANT field of its tactics lines for this weight ("" when it cannot run it).
    virtual std::string quant_key(Quant q, int n, int k, int group) const = 0;
    virtual std::vector<std::string> configs(Quant q, int n, int k, int group) const = 0;
    virtual std::unique_ptr<Prepared> prepare(Quant q, int8_t const* packed_host, __half const* scales,
        __half const* zeros, int k, int n, int group, cudaStream_t stream) const
        = 0;
    virtual size_t workspace_size(Quant q, int m, int n, int k, int group) const = 0;
    virtual void run(Prepared const& w, Quant q, std::string const& config, Problem const& p) const = 0;
};

#if W4A16_HAS_TRTLLM
std::unique_ptr<Backend> make_trtllm();
#endif
#if W4A16_HAS_MACHETE
std::unique_ptr<Backend> make_machete();
#endif

} // namespace w4a16::detail
