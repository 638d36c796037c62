// w4a16_smoke: what the bundle holds, without a GPU: the backends compiled in and their config names.
//   w4a16_smoke            prints "backends: NAME..." then, per backend, "NAME: N configs (FIRST ...)"
#include "w4a16/w4a16.h"

#include <cstdio>
#include <exception>

int main()
{
    try
    {
        std::printf("backends:");
        for (auto const& b : w4a16::backends())
            std::printf(" %s", b.c_str());
        std::printf("\n");
        for (auto const& b : w4a16::backends())
        {
            auto const cfgs = w4a16::list_configs(b, w4a16::Quant::Symmetric);
            std::printf("%s: %zu configs%s%s\n", b.c_str(), cfgs.size(), cfgs.empty() ? "" : ", first ",
                cfgs.empty() ? "" : cfgs.front().c_str());
        }
        return 0;
    }
    catch (std::exception const& e)
    {
        std::fprintf(stderr, "w4a16_smoke: error: %s\n", e.what());
        return 2;
    }
}
