// Host-only driver of the shared test-program headers (vendor_slim/bench_cli.h, vendor_slim/tactics.h),
// compiled with the host C++ compiler by tests/test_bench_headers.py and run in scenarios there.
//
//   tactics_driver cli ARGS...              parse ARGS as a test program would (plus --quick, --ops X);
//                                           print the options one per line; exit as run() says
//   tactics_driver load FILE GPU            load FILE for GPU; print the warning (stderr), the entry count,
//                                           the entries find() answers for GPU, then the table's text
//   tactics_driver put FILE GPU M N K G QUANT BACKEND CONFIG US
//                                           load FILE (missing: empty), put_if_faster, save FILE
//   tactics_driver roundtrip FILE           a fixed table: save, load, compare entries; save again,
//                                           compare bytes; exit 0 when both are equal
// Errors (UsageError, TacticsError, invalid_argument) print "error: ..." and exit 2.
#include "vendor_slim/bench_cli.h"
#include "vendor_slim/tactics.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

using vendor_slim::Tactic;
using vendor_slim::Tactics;

namespace
{

int cli(int argc, char** argv)
{
    bool quick = false;
    std::string ops;
    vendor_slim::BenchCli p("tactics_driver", "host-only test of bench_cli.h");
    p.add_flag("--quick", "small shapes", [&] { quick = true; });
    p.add_option("--ops", "LIST", "ops",
        [&](std::string const& v)
        {
            if (v != "fg" && v != "fgz" && v != "pc" && v != "fg,fgz")
                throw vendor_slim::UsageError("--ops: unknown op list '" + v + "'");
            ops = v;
        });
    vendor_slim::BenchOptions o;
    int const rc = p.run(argc, argv, o);
    if (rc >= 0)
        return rc;
    for (auto const& s : o.shapes)
        std::printf("shape %d %d %d\n", s.m, s.n, s.k);
    std::printf("shapes_file %s\ngroup_size %d\nlist_configs %d\ncheck %d\nbench %d\nconfig %s\ntactics %s\n"
                "json %s\nquick %d\nops %s\n",
        o.shapes_file.c_str(), o.group_size, int(o.list_configs), int(o.check), int(o.bench), o.config.c_str(),
        o.tactics.c_str(), o.json.c_str(), int(quick), ops.c_str());
    return 0;
}

std::string slurp(std::string const& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream b;
    b << in.rdbuf();
    return b.str();
}

Tactics fixed_table()
{
    Tactics t("NVIDIA_H200:sm90:132");
    auto add = [&](int m, int n, int k, int g, char const* q, char const* gpu, char const* be, char const* cfg,
                   double us) { t.put(Tactic{{m, n, k, g, q, gpu, be}, cfg, us}); };
    add(1, 28672, 8192, 128, "fg", "NVIDIA_H200:sm90:132", "trtllm", "gemv", 48.4);
    add(16, 28672, 8192, 128, "fg", "NVIDIA_H200:sm90:132", "trtllm", "sm90_t64x16x64_c1x1x1_pingpong", 96.2);
    add(16, 28672, 8192, 128, "u4b8", "NVIDIA_H200:sm90:132", "machete", "128x16_2x1x1_TmaMI__TmaCoop_streamK",
        55.7);
    add(4096, 8192, 28672, 128, "fg", "NVIDIA_H200:sm90:132", "trtllm", "sm90_t128x128x64_c2x1x1_cooperative",
        3129.0004);
    add(2, 4096, 4096, 64, "fgz", "NVIDIA_H100_80GB_HBM3:sm90:132", "trtllm", "gemv", 1.0 / 3.0);
    add(3, 4096, 4096, 64, "fgz", "NVIDIA_H100_80GB_HBM3:sm90:132", "trtllm", "gemv", 1e-9);
    return t;
}

int roundtrip(std::string const& path)
{
    Tactics const a = fixed_table();
    a.save(path);
    Tactics b("NVIDIA_H200:sm90:132");
    std::string warning;
    if (!b.load(path, &warning))
    {
        std::printf("load: file missing after save\n");
        return 1;
    }
    bool const same_entries = a.entries() == b.entries();
    std::string const first = slurp(path);
    b.save(path);
    bool const same_bytes = first == slurp(path);
    auto const hit = b.find("trtllm", "fg", 1, 28672, 8192, 128);
    auto const best = b.best({{"trtllm", "fg"}, {"machete", "u4b8"}}, 16, 28672, 8192, 128);
    bool const other_hidden = !b.find("trtllm", "fgz", 2, 4096, 4096, 64);
    std::printf("entries %zu same_entries %d same_bytes %d other_gpu %zu other_hidden %d\n", b.size(),
        int(same_entries), int(same_bytes), b.other_gpu_entries(), int(other_hidden));
    std::printf("find %s\nbest %s\nwarning %s\n", hit ? Tactics::format(*hit).c_str() : "-",
        best ? Tactics::format(*best).c_str() : "-", warning.c_str());
    return same_entries && same_bytes && hit && best && other_hidden ? 0 : 1;
}

int load(std::string const& path, std::string const& gpu)
{
    Tactics t(gpu);
    bool const existed = t.load(path); // the warning goes to stderr
    std::printf("existed %d entries %zu other_gpu %zu\n", int(existed), t.size(), t.other_gpu_entries());
    for (auto const& e : t.entries())
    {
        auto const hit = t.find(e.key.backend, e.key.quant, e.key.m, e.key.n, e.key.k, e.key.group);
        if (hit && hit->key == e.key)
            std::printf("found %s\n", Tactics::format(*hit).c_str());
    }
    std::fputs(t.text().c_str(), stdout);
    return 0;
}

int put(int argc, char** argv)
{
    if (argc != 12)
    {
        std::fprintf(stderr, "error: put FILE GPU M N K G QUANT BACKEND CONFIG US\n");
        return 2;
    }
    Tactics t(argv[3]);
    t.load(argv[2]);
    Tactic x{{std::atoi(argv[4]), std::atoi(argv[5]), std::atoi(argv[6]), std::atoi(argv[7]), argv[8], argv[3],
                 argv[9]},
        argv[10], std::atof(argv[11])};
    bool const put = t.put_if_faster(x);
    t.save(argv[2]);
    std::printf("put %d\n", int(put));
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2)
    {
        std::fprintf(stderr, "error: want a scenario: cli, load, put, roundtrip\n");
        return 2;
    }
    std::string const what = argv[1];
    try
    {
        if (what == "cli")
            return cli(argc - 1, argv + 1);
        if (what == "load" && argc == 4)
            return load(argv[2], argv[3]);
        if (what == "put")
            return put(argc, argv);
        if (what == "roundtrip" && argc == 3)
            return roundtrip(argv[2]);
    }
    catch (std::exception const& e)
    {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    }
    std::fprintf(stderr, "error: bad scenario\n");
    return 2;
}
