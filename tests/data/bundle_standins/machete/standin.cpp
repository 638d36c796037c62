// Stand-in machete_sm90: the functions the bundle's dispatcher calls, with two named configs, no kernels.
#include "machete_sm90/machete_sm90.h"

#include <stdexcept>

namespace machete_sm90
{

bool is_compiled(QuantStyle style)
{
    return style == QuantStyle::Gptq;
}

std::vector<std::string> list_configs(QuantStyle)
{
    return {"standin_machete_128x16", "standin_machete_128x64", "standin_machete_256x128"};
}

void prepack(QuantStyle, void*, void const*, int, int, cudaStream_t)
{
    throw std::runtime_error("stand-in machete_sm90: no kernels");
}

std::size_t workspace_size(QuantStyle, int, int, int, int, char const*)
{
    return 0;
}

void mm(QuantStyle, __half const*, void const*, __half const*, __half const*, __half*, int, int, int, int, void*,
    std::size_t, cudaStream_t, char const*)
{
    throw std::runtime_error("stand-in machete_sm90: no kernels");
}

} // namespace machete_sm90
