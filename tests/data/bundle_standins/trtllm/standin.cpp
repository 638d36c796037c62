// Stand-in w4a16_sm90: the functions the bundle's dispatcher calls, with two named configs, no kernels.
#include "w4a16_sm90/w4a16_sm90.h"

#include <stdexcept>

namespace w4a16_sm90
{

bool is_compiled(QuantOp op)
{
    return op == QuantOp::Finegrained;
}

std::vector<std::string> list_configs(QuantOp)
{
    return {"standin_trtllm_a", "gemv"};
}

void preprocess_weights(int8_t*, int8_t const*, int, int)
{
    throw std::runtime_error("stand-in w4a16_sm90: no kernels");
}

size_t workspace_size(QuantOp, int, int, int)
{
    return 0;
}

void run_config(QuantOp, std::string const&, __half const*, void const*, __half const*, __half const*, __half const*,
    __half*, int, int, int, int, void*, size_t, cudaStream_t)
{
    throw std::runtime_error("stand-in w4a16_sm90: no kernels");
}

} // namespace w4a16_sm90
