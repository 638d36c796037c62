// w4a16_sm90_test's command line: the flags all vendor-slim test programs share (vendor_slim/bench_cli.h)
// plus this program's --ops, --quick and --tol, and the checks that need no GPU. Host-only C++17 (no
// CUDA), so that it can be compiled and tested on its own.
#pragma once

#include "vendor_slim/bench_cli.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace w4a16_sm90_test
{

struct Args
{
    vendor_slim::BenchOptions opt;
    bool quick = false;
    double tol = 0.0;
    std::vector<std::string> ops; // fg / pc / fgz keys, in the order given; empty: the defaults
};

// Throws vendor_slim::UsageError.
inline Args parse_args_or_throw(int argc, char const* const* argv, double default_tol, vendor_slim::BenchCli& cli)
{
    Args a;
    a.tol = default_tol;
    std::string tol_text, ops_text;
    cli.add_option("--ops", "LIST",
        "comma list of fg, pc, fgz: the ops to check and bench (default: check every compiled op, bench fg)",
        [&](std::string const& v) { ops_text = v; });
    cli.add_flag("--quick", "small shapes only (smoke run)", [&] { a.quick = true; });
    cli.add_option("--tol", "X",
        "check tolerance on max|C - ref| / max|ref| (default " + std::to_string(default_tol) + ")",
        [&](std::string const& v) { tol_text = v; });
    a.opt = cli.parse(argc, argv);
    if (a.opt.help)
    {
        return a;
    }
    if (!tol_text.empty())
    {
        char* end = nullptr;
        a.tol = std::strtod(tol_text.c_str(), &end);
        if (*end != '\0' || !(a.tol > 0) || a.tol > 1)
        {
            throw vendor_slim::UsageError("--tol: '" + tol_text + "' is not a number in (0, 1]");
        }
    }
    if (!ops_text.empty())
    {
        size_t pos = 0;
        while (pos <= ops_text.size())
        {
            size_t const comma = std::min(ops_text.find(',', pos), ops_text.size());
            std::string const key = ops_text.substr(pos, comma - pos);
            pos = comma + 1;
            if (key != "fg" && key != "pc" && key != "fgz")
            {
                throw vendor_slim::UsageError("--ops: unknown op '" + key + "' (use fg, pc, fgz)");
            }
            bool dup = false;
            for (auto const& o : a.ops)
                dup = dup || o == key;
            if (!dup)
                a.ops.push_back(key);
        }
    }
    // What the kernels require of every shape (see w4a16_sm90.h), said before any GPU work.
    for (auto const& s : a.opt.shapes)
    {
        if (s.n % 64 != 0 || s.k % 64 != 0)
        {
            throw vendor_slim::UsageError("shape " + std::to_string(s.m) + " " + std::to_string(s.n) + " "
                + std::to_string(s.k) + ": N and K must be multiples of 64");
        }
    }
    int const g = a.opt.group_size;
    if (g != 0)
    {
        if (g % 64 != 0)
        {
            throw vendor_slim::UsageError("--group-size: " + std::to_string(g) + " is not a multiple of 64");
        }
        for (auto const& s : a.opt.shapes)
        {
            if (s.k % g != 0)
            {
                throw vendor_slim::UsageError("--group-size: " + std::to_string(g) + " does not divide K = "
                    + std::to_string(s.k) + " (shape " + std::to_string(s.m) + " " + std::to_string(s.n) + " "
                    + std::to_string(s.k) + ")");
            }
        }
    }
    return a;
}

// parse_args_or_throw with the reporting done: -1 go on, 0 after --help, 2 after an error (printed).
inline int parse_args(int argc, char const* const* argv, double default_tol, Args& out)
{
    vendor_slim::BenchCli cli("w4a16_sm90_test",
        "Checks every config of the w4a16_sm90 library against a float64 reference and benchmarks it against "
        "cuBLAS FP16.\nNo --check/--bench: both.");
    try
    {
        out = parse_args_or_throw(argc, argv, default_tol, cli);
    }
    catch (vendor_slim::UsageError const& e)
    {
        std::fprintf(stderr, "w4a16_sm90_test: error: %s\n(w4a16_sm90_test --help lists the options)\n", e.what());
        return 2;
    }
    if (out.opt.help)
    {
        std::fputs(cli.usage().c_str(), stdout);
        return 0;
    }
    return -1;
}

} // namespace w4a16_sm90_test
