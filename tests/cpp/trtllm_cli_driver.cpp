// Host-only driver of the TensorRT-LLM test program's command line (templates/.../test/w4a16_sm90_test_cli.h):
// the same parse_args() the program calls, compiled without CUDA by tests/test_bench_headers.py.
#include "w4a16_sm90_test_cli.h"

#include <cstdio>

int main(int argc, char** argv)
{
    w4a16_sm90_test::Args a;
    int const rc = w4a16_sm90_test::parse_args(argc, argv, 5e-3, a);
    if (rc >= 0)
        return rc;
    for (auto const& s : a.opt.shapes)
        std::printf("shape %d %d %d\n", s.m, s.n, s.k);
    std::printf("group_size %d\nconfig %s\ntactics %s\nquick %d\ntol %g\nops", a.opt.group_size,
        a.opt.config.c_str(), a.opt.tactics.c_str(), int(a.quick), a.tol);
    for (auto const& o : a.ops)
        std::printf(" %s", o.c_str());
    std::printf("\n");
    return 0;
}
