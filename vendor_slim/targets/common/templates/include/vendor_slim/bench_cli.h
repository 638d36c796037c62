// vendor_slim/bench_cli.h: the command line every test-and-benchmark program of a vendor-slim tree
// speaks (header-only, C++17, no CUDA). Written by vendor-slim; the same file in every tree.
//
//   PROG [--m M[,M...] --n N[,N...] --k K[,K...] | --shapes FILE] [--group-size G]
//        [--list-configs] [--config NAME] [--tactics FILE] [--check] [--bench] [--json FILE]
//        [program-specific options] [-h | --help]
//
//   --m --n --k      the problem sizes; all three or none; each takes a comma list (the shapes are
//                    every combination, n outermost, m innermost). Positive integers.
//   --shapes FILE    one shape per line, "M N K" (whitespace-separated positive integers); '#'
//                    starts a comment; blank lines are skipped. Not together with --m/--n/--k.
//   --group-size G   quantization group size along K (a positive integer; 0 or absent: the
//                    program's default).
//   --list-configs   print the names of the configs the program can run, one per line, and exit.
//   --config NAME    run only that config (a name --list-configs prints).
//   --tactics FILE   load the best config per shape and GPU from FILE (see tactics.h; a missing file
//                    is an empty table) and write back what this run profiled.
//   --check          correctness check; --bench: benchmark (no mode flag: the program's default).
//   --json FILE      write the results as JSON.
// Every long flag also takes its value as --flag=VALUE, and accepts '_' for '-' (--group_size).
//
// Errors: parse() throws UsageError naming the flag or FILE:LINE; run() prints "PROG: error: ..."
// and the usage hint, and returns 2 (exit status 2 = bad usage, as in the vendor-slim CLI).
#pragma once

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace vendor_slim
{

// A bad command line or shapes file; what() is the message (without "error: ").
struct UsageError : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

struct Shape
{
    int m, n, k;

    bool operator==(Shape const& o) const
    {
        return m == o.m && n == o.n && k == o.k;
    }
};

struct BenchOptions
{
    std::vector<Shape> shapes;  // empty: the program's default shapes
    std::string shapes_file;    // where `shapes` came from ("" for --m/--n/--k or the default)
    int group_size = 0;         // 0: the program's default
    bool list_configs = false;
    bool check = false;
    bool bench = false;
    bool help = false;
    std::string config;         // "" = every config
    std::string tactics;        // "" = no tactics file
    std::string json;           // "" = no JSON
};

namespace detail
{

inline std::string trim(std::string const& s)
{
    size_t b = 0, e = s.size();
    while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\r' || s[b] == '\n'))
        ++b;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r' || s[e - 1] == '\n'))
        --e;
    return s.substr(b, e - b);
}

// A whole-token decimal integer in [lo, INT_MAX]; false otherwise (no sign games, no trailing junk).
inline bool to_int(std::string const& s, int lo, int& out)
{
    if (s.empty() || s.size() > 11)
        return false;
    for (char c : s)
        if (c < '0' || c > '9')
            return false;
    errno = 0;
    char* end = nullptr;
    long long const v = std::strtoll(s.c_str(), &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > INT_MAX)
        return false;
    out = static_cast<int>(v);
    return true;
}

inline std::vector<int> int_list(std::string const& flag, std::string const& value)
{
    std::vector<int> out;
    size_t pos = 0;
    while (true)
    {
        size_t const comma = value.find(',', pos);
        std::string const item = value.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        int v = 0;
        if (!to_int(item, 1, v))
            throw UsageError(flag + ": '" + item + "' is not a positive integer (in '" + value + "')");
        out.push_back(v);
        if (comma == std::string::npos)
            break;
        pos = comma + 1;
    }
    return out;
}

} // namespace detail

// Reads a shapes file: "M N K" per line, '#' comments, blank lines skipped. Throws UsageError
// "FILE:LINE: ..." for a malformed line, and "FILE: ..." when it cannot be read or has no shape.
inline std::vector<Shape> read_shapes_file(std::string const& path)
{
    std::ifstream in(path);
    if (!in)
        throw UsageError("--shapes: cannot read " + path);
    std::vector<Shape> out;
    std::string line;
    int lineno = 0;
    while (std::getline(in, line))
    {
        ++lineno;
        size_t const hash = line.find('#');
        std::string const body = detail::trim(hash == std::string::npos ? line : line.substr(0, hash));
        if (body.empty())
            continue;
        std::istringstream ss(body);
        std::vector<std::string> tok;
        for (std::string t; ss >> t;)
            tok.push_back(t);
        Shape s{};
        if (tok.size() != 3 || !detail::to_int(tok[0], 1, s.m) || !detail::to_int(tok[1], 1, s.n)
            || !detail::to_int(tok[2], 1, s.k))
        {
            throw UsageError(path + ":" + std::to_string(lineno) + ": want 'M N K' (three positive integers), got '"
                + body + "'");
        }
        out.push_back(s);
    }
    if (in.bad())
        throw UsageError("--shapes: error reading " + path);
    if (out.empty())
        throw UsageError(path + ": no shape in the file");
    return out;
}

class BenchCli
{
public:
    explicit BenchCli(std::string program, std::string summary = "")
        : program_(std::move(program))
        , summary_(std::move(summary))
    {
    }

    // A program-specific flag without a value.
    void add_flag(std::string name, std::string help, std::function<void()> set)
    {
        extras_.push_back({std::move(name), "", std::move(help), std::move(set), nullptr});
    }

    // A program-specific option with a value; `set` throws UsageError for a bad value (its message
    // should name the flag).
    void add_option(
        std::string name, std::string metavar, std::string help, std::function<void(std::string const&)> set)
    {
        extras_.push_back({std::move(name), std::move(metavar), std::move(help), nullptr, std::move(set)});
    }

    std::string usage() const
    {
        std::string u = "usage: " + program_
            + " [--m M[,M..] --n N[,N..] --k K[,K..] | --shapes FILE] [--group-size G]\n"
              "       [--list-configs] [--config NAME] [--tactics FILE] [--check] [--bench] [--json FILE]";
        for (auto const& x : extras_)
            u += " [" + x.name + (x.metavar.empty() ? "" : " " + x.metavar) + "]";
        u += "\n";
        if (!summary_.empty())
            u += summary_ + "\n";
        u += "  --m/--n/--k      problem sizes (comma lists; every combination), or --shapes FILE ('M N K' lines)\n"
             "  --group-size G   quantization group size along K (default: the program's)\n"
             "  --list-configs   print the config names and exit\n"
             "  --config NAME    run only that config\n"
             "  --tactics FILE   load the best config per shape and GPU from FILE; save what is profiled\n"
             "  --check/--bench  correctness check / benchmark\n"
             "  --json FILE      write the results as JSON\n";
        for (auto const& x : extras_)
        {
            std::string head = "  " + x.name + (x.metavar.empty() ? "" : " " + x.metavar);
            head.resize(std::max<size_t>(head.size() + 1, 19), ' ');
            u += head + x.help + "\n";
        }
        return u;
    }

    // Throws UsageError; --help sets help and stops parsing.
    BenchOptions parse(int argc, char const* const* argv) const
    {
        BenchOptions o;
        std::vector<int> ms, ns, ks;
        std::string seen_mnk; // the first of --m/--n/--k given, for the error message
        for (int i = 1; i < argc; ++i)
        {
            std::string arg = argv[i];
            if (arg == "-h" || arg == "--help")
            {
                o.help = true;
                return o;
            }
            if (arg.size() < 3 || arg.compare(0, 2, "--") != 0)
                throw UsageError("unexpected argument '" + arg + "'");
            std::string value;
            bool has_value = false;
            size_t const eq = arg.find('=');
            if (eq != std::string::npos)
            {
                value = arg.substr(eq + 1);
                arg = arg.substr(0, eq);
                has_value = true;
            }
            for (size_t c = 2; c < arg.size(); ++c)
                if (arg[c] == '_')
                    arg[c] = '-';
            auto need_value = [&]() -> std::string const&
            {
                if (!has_value)
                {
                    if (i + 1 >= argc)
                        throw UsageError(arg + " needs a value");
                    value = argv[++i];
                    has_value = true;
                }
                return value;
            };
            auto no_value = [&]
            {
                if (has_value)
                    throw UsageError(arg + " takes no value (got '" + value + "')");
            };
            if (arg == "--m" || arg == "--n" || arg == "--k")
            {
                std::vector<int>& dst = arg == "--m" ? ms : arg == "--n" ? ns : ks;
                if (!dst.empty())
                    throw UsageError(arg + " given twice (use a comma list)");
                dst = detail::int_list(arg, need_value());
                if (seen_mnk.empty())
                    seen_mnk = arg;
            }
            else if (arg == "--shapes")
            {
                if (!o.shapes_file.empty())
                    throw UsageError("--shapes given twice");
                o.shapes_file = need_value();
                if (o.shapes_file.empty())
                    throw UsageError("--shapes needs a file name");
            }
            else if (arg == "--group-size")
            {
                std::string const& v = need_value();
                if (!detail::to_int(v, 0, o.group_size))
                    throw UsageError("--group-size: '" + v + "' is not a non-negative integer");
            }
            else if (arg == "--list-configs")
                no_value(), o.list_configs = true;
            else if (arg == "--check")
                no_value(), o.check = true;
            else if (arg == "--bench")
                no_value(), o.bench = true;
            else if (arg == "--config")
                o.config = non_empty(arg, need_value());
            else if (arg == "--tactics")
                o.tactics = non_empty(arg, need_value());
            else if (arg == "--json")
                o.json = non_empty(arg, need_value());
            else
            {
                Extra const* x = find_extra(arg);
                if (x == nullptr)
                    throw UsageError("unknown option " + arg);
                if (x->set_flag)
                    no_value(), x->set_flag();
                else
                    x->set_value(need_value());
            }
        }
        bool const any_mnk = !ms.empty() || !ns.empty() || !ks.empty();
        if (any_mnk && (ms.empty() || ns.empty() || ks.empty()))
        {
            throw UsageError(seen_mnk + " needs all of --m, --n and --k (missing:" + (ms.empty() ? " --m" : "")
                + (ns.empty() ? " --n" : "") + (ks.empty() ? " --k" : "") + ")");
        }
        if (any_mnk && !o.shapes_file.empty())
            throw UsageError("--shapes and --m/--n/--k exclude each other");
        if (!o.shapes_file.empty())
            o.shapes = read_shapes_file(o.shapes_file);
        for (int n : ns)
            for (int k : ks)
                for (int m : ms)
                    o.shapes.push_back({m, n, k});
        return o;
    }

    // parse() with the reporting done: returns -1 to go on (`out` filled), 0 after printing the
    // usage for --help, 2 after printing "PROG: error: ..." and a hint to stderr.
    int run(int argc, char const* const* argv, BenchOptions& out) const
    {
        try
        {
            out = parse(argc, argv);
        }
        catch (UsageError const& e)
        {
            std::fprintf(stderr, "%s: error: %s\n(%s --help lists the options)\n", program_.c_str(), e.what(),
                program_.c_str());
            return 2;
        }
        if (out.help)
        {
            std::fputs(usage().c_str(), stdout);
            return 0;
        }
        return -1;
    }

    int run(int argc, char** argv, BenchOptions& out) const
    {
        return run(argc, const_cast<char const* const*>(argv), out);
    }

private:
    struct Extra
    {
        std::string name, metavar, help;
        std::function<void()> set_flag;
        std::function<void(std::string const&)> set_value;
    };

    static std::string const& non_empty(std::string const& flag, std::string const& v)
    {
        if (v.empty())
            throw UsageError(flag + " needs a non-empty value");
        return v;
    }

    Extra const* find_extra(std::string const& name) const
    {
        for (auto const& x : extras_)
            if (x.name == name)
                return &x;
        return nullptr;
    }

    std::string program_, summary_;
    std::vector<Extra> extras_;
};

} // namespace vendor_slim
