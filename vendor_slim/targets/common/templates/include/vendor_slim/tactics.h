// vendor_slim/tactics.h: the tactics file, the best config per shape, GPU and backend, measured once
// and kept (header-only, C++17, no CUDA). Written by vendor-slim; the same file in every tree. The
// format is described in vendor-slim's docs/tactics.md; in short:
//
//   vendor-slim-tactics v1
//   # M N K GROUP QUANT GPU BACKEND CONFIG US
//   1 28672 8192 128 fg NVIDIA_H200:sm90:132 trtllm gemv 48.400
//   16 28672 8192 128 u4b8 NVIDIA_H200:sm90:132 machete 128x16_2x1x1_TmaMI__TmaCoop_streamK 55.700
//
// The first line is the versioned header, exactly. Every other line is blank, a comment ('#' to the
// end of the line), or one entry of nine whitespace-separated fields: M N K GROUP (positive integers),
// QUANT (the backend's name for the weight type, e.g. fg / fgz / pc for TensorRT-LLM, the type name
// for Machete), GPU (see GpuKey), BACKEND, CONFIG (a name the backend's list_configs() returns) and
// US (the measured median time in microseconds, > 0). The key is everything before CONFIG; a key
// appears at most once. save() writes the entries sorted by key, times with three decimals, so the
// same table gives the same bytes.
//
// One line per (shape, GPU, backend) rather than one per (shape, GPU): each backend records its own
// best config, so a file written by several programs (or a bundle built without one backend) still
// has a usable line for each backend it has; the bundle's choice is the fastest line among them.
//
// Thread safety: none inside; a library that shares one Tactics between threads guards it.
#pragma once

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace vendor_slim
{

inline constexpr char kTacticsHeader[] = "vendor-slim-tactics v1";
inline constexpr int kTacticsVersion = 1;

// A malformed or unreadable tactics file; what() names FILE:LINE where a line is at fault.
struct TacticsError : std::runtime_error
{
    using std::runtime_error::runtime_error;
};

// Which GPU a time was measured on: "NAME:smXY:COUNT", NAME the CUDA device name with every
// character other than [A-Za-z0-9._-] replaced by '_' ("NVIDIA H200" -> "NVIDIA_H200"), XY the
// compute capability (major * 10 + minor), COUNT the number of SMs (multiProcessorCount). The SM count
// is part of the key because the same name covers parts with different counts (H100 SXM 132, PCIe
// 114; MIG slices), where the best tile differs; memory size and clocks are not.
inline std::string gpu_key(std::string const& device_name, int cc_major, int cc_minor, int sm_count)
{
    std::string n = device_name.empty() ? std::string("unknown") : device_name;
    for (char& c : n)
    {
        bool const ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.'
            || c == '_' || c == '-';
        if (!ok)
            c = '_';
    }
    return n + ":sm" + std::to_string(cc_major * 10 + cc_minor) + ":" + std::to_string(sm_count);
}

struct TacticKey
{
    int m = 0, n = 0, k = 0, group = 0;
    std::string quant, gpu, backend;

    // Sort order of the file: GPU, backend, quant, then N, K, group, M (a shape's M sweep together).
    bool operator<(TacticKey const& o) const
    {
        return std::tie(gpu, backend, quant, n, k, group, m) < std::tie(o.gpu, o.backend, o.quant, o.n, o.k, o.group, o.m);
    }

    bool operator==(TacticKey const& o) const
    {
        return !(*this < o) && !(o < *this);
    }
};

struct Tactic
{
    TacticKey key;
    std::string config;
    double us = 0.0;

    bool operator==(Tactic const& o) const
    {
        return key == o.key && config == o.config && us == o.us;
    }
};

namespace tactics_detail
{

inline bool is_token(std::string const& s)
{
    if (s.empty())
        return false;
    for (char c : s)
    {
        unsigned char const u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f || c == '#')
            return false;
    }
    return true;
}

inline bool to_int(std::string const& s, int& out)
{
    if (s.empty() || s.size() > 10)
        return false;
    for (char c : s)
        if (c < '0' || c > '9')
            return false;
    long long const v = std::strtoll(s.c_str(), nullptr, 10);
    if (v < 1 || v > INT_MAX)
        return false;
    out = static_cast<int>(v);
    return true;
}

inline bool to_us(std::string const& s, double& out)
{
    if (s.empty() || !((s[0] >= '0' && s[0] <= '9') || s[0] == '.'))
        return false;
    errno = 0;
    char* end = nullptr;
    double const v = std::strtod(s.c_str(), &end);
    if (errno != 0 || *end != '\0' || !std::isfinite(v) || !(v > 0))
        return false;
    out = v;
    return true;
}

// Times are kept at nanosecond resolution, the resolution of the file, so that save, load gives back
// equal values (the correctly rounded quotient is the double strtod reads from the decimal).
inline double round_us(double us)
{
    return std::max(std::round(us * 1000.0), 1.0) / 1000.0; // >= 1 ns: "0.000" would not load
}

} // namespace tactics_detail

class Tactics
{
public:
    // `gpu`: this process's GPU key (gpu_key()); find() only answers for it. "" accepts any GPU.
    explicit Tactics(std::string gpu = "")
        : gpu_(std::move(gpu))
    {
    }

    std::string const& gpu() const
    {
        return gpu_;
    }

    // Adds or replaces an entry. Throws std::invalid_argument for a field the file could not hold.
    void put(Tactic t)
    {
        validate(t);
        t.us = tactics_detail::round_us(t.us);
        map_[t.key] = Value{t.config, t.us};
    }

    // Puts `t` unless an entry with the same key is at least as fast; true when it was put.
    bool put_if_faster(Tactic const& t)
    {
        auto it = map_.find(t.key);
        if (it != map_.end() && it->second.us <= tactics_detail::round_us(t.us))
            return false;
        put(t);
        return true;
    }

    bool erase(TacticKey const& key)
    {
        return map_.erase(key) > 0;
    }

    // The entry with exactly this key (any GPU).
    std::optional<Tactic> get(TacticKey const& key) const
    {
        auto it = map_.find(key);
        if (it == map_.end())
            return std::nullopt;
        return Tactic{it->first, it->second.config, it->second.us};
    }

    // This GPU's entry for the shape and backend.
    std::optional<Tactic> find(
        std::string const& backend, std::string const& quant, int m, int n, int k, int group) const
    {
        TacticKey key;
        key.m = m, key.n = n, key.k = k, key.group = group, key.quant = quant, key.backend = backend;
        key.gpu = gpu_;
        if (gpu_.empty())
        {
            for (auto const& [kk, v] : map_)
                if (kk.m == m && kk.n == n && kk.k == k && kk.group == group && kk.quant == quant
                    && kk.backend == backend)
                    return Tactic{kk, v.config, v.us};
            return std::nullopt;
        }
        auto it = map_.find(key);
        if (it == map_.end())
            return std::nullopt;
        return Tactic{it->first, it->second.config, it->second.us};
    }

    // The fastest of this GPU's entries for the shape over the given (backend, quant) pairs: the
    // choice of a library that has those backends (each names the weight type its own way).
    std::optional<Tactic> best(
        std::vector<std::pair<std::string, std::string>> const& backends, int m, int n, int k, int group) const
    {
        std::optional<Tactic> out;
        for (auto const& [backend, quant] : backends)
        {
            auto t = find(backend, quant, m, n, k, group);
            if (t && (!out || t->us < out->us))
                out = t;
        }
        return out;
    }

    // Every entry (all GPUs), sorted by key.
    std::vector<Tactic> entries() const
    {
        std::vector<Tactic> out;
        for (auto const& [k, v] : map_)
            out.push_back(Tactic{k, v.config, v.us});
        return out;
    }

    size_t size() const
    {
        return map_.size();
    }

    // Entries of other GPUs (kept, saved again, never answered by find()).
    size_t other_gpu_entries() const
    {
        size_t n = 0;
        for (auto const& kv : map_)
            n += !gpu_.empty() && kv.first.gpu != gpu_;
        return n;
    }

    static std::string format(Tactic const& t)
    {
        char us[48];
        std::snprintf(us, sizeof(us), "%.3f", t.us);
        TacticKey const& k = t.key;
        return std::to_string(k.m) + " " + std::to_string(k.n) + " " + std::to_string(k.k) + " "
            + std::to_string(k.group) + " " + k.quant + " " + k.gpu + " " + k.backend + " " + t.config + " " + us;
    }

    // The whole file's text: header, a comment naming the columns, the sorted entries.
    std::string text() const
    {
        std::string s = std::string(kTacticsHeader) + "\n# M N K GROUP QUANT GPU BACKEND CONFIG US\n";
        for (auto const& t : entries())
            s += format(t) + "\n";
        return s;
    }

    // Parses `text` (the contents of `path`, which only names it in errors) and merges its entries
    // into this table (the file's entry wins on a key present in both). Throws TacticsError
    // "PATH:LINE: ..." for the first malformed line; nothing is merged then. Returns a warning
    // ("" if none): entries for other GPUs are kept but ignored, said once per load.
    std::string parse(std::string const& text, std::string const& path)
    {
        std::map<TacticKey, Value> got;
        std::map<TacticKey, int> line_of;
        std::set<std::string> other_gpus;
        size_t other = 0;
        std::istringstream in(text);
        std::string line;
        int lineno = 0;
        auto fail = [&](std::string const& why) -> TacticsError
        { return TacticsError(path + ":" + std::to_string(lineno) + ": " + why); };
        while (std::getline(in, line))
        {
            ++lineno;
            if (!line.empty() && line.back() == '\r')
                line.pop_back();
            if (lineno == 1)
            {
                std::string h = line;
                while (!h.empty() && (h.back() == ' ' || h.back() == '\t'))
                    h.pop_back();
                if (h == kTacticsHeader)
                    continue;
                std::string const prefix = "vendor-slim-tactics v";
                if (h.compare(0, prefix.size(), prefix) == 0)
                    throw fail("tactics format '" + h + "' is not the one this program reads ('" + kTacticsHeader
                        + "')");
                throw fail("not a tactics file: the first line must be '" + std::string(kTacticsHeader) + "'");
            }
            size_t const hash = line.find('#');
            std::istringstream ss(hash == std::string::npos ? line : line.substr(0, hash));
            std::vector<std::string> f;
            for (std::string t; ss >> t;)
                f.push_back(t);
            if (f.empty())
                continue;
            if (f.size() != 9)
                throw fail("want 9 fields 'M N K GROUP QUANT GPU BACKEND CONFIG US', got " + std::to_string(f.size()));
            Tactic t;
            char const* names[] = {"M", "N", "K", "GROUP"};
            int* dst[] = {&t.key.m, &t.key.n, &t.key.k, &t.key.group};
            for (int i = 0; i < 4; ++i)
                if (!tactics_detail::to_int(f[i], *dst[i]))
                    throw fail(std::string(names[i]) + " '" + f[i] + "' is not a positive integer");
            t.key.quant = f[4];
            t.key.gpu = f[5];
            t.key.backend = f[6];
            t.config = f[7];
            if (!tactics_detail::to_us(f[8], t.us))
                throw fail("US '" + f[8] + "' is not a positive number of microseconds");
            t.us = tactics_detail::round_us(t.us);
            auto const seen = line_of.find(t.key);
            if (seen != line_of.end())
                throw fail("the same shape, GPU and backend as line " + std::to_string(seen->second));
            line_of[t.key] = lineno;
            got[t.key] = Value{t.config, t.us};
            if (!gpu_.empty() && t.key.gpu != gpu_)
            {
                ++other;
                other_gpus.insert(t.key.gpu);
            }
        }
        if (lineno == 0)
        {
            lineno = 1;
            throw fail("empty file: the first line must be '" + std::string(kTacticsHeader) + "'");
        }
        for (auto& kv : got)
            map_[kv.first] = kv.second;
        if (other == 0)
            return "";
        std::string gpus;
        for (auto const& g : other_gpus)
            gpus += (gpus.empty() ? "" : ", ") + g;
        return path + ": " + std::to_string(other) + " entr" + (other == 1 ? "y" : "ies") + " for another GPU ("
            + gpus + ") ignored; this GPU is " + gpu_;
    }

    // Loads `path` (see parse()). A missing file is an empty table: returns false and changes
    // nothing. The warning, if any, goes to *warning, or to stderr when warning is null.
    bool load(std::string const& path, std::string* warning = nullptr)
    {
        std::ifstream in(path, std::ios::binary);
        if (!in)
        {
            if (std::FILE* f = std::fopen(path.c_str(), "rb"))
            {
                std::fclose(f);
                throw TacticsError(path + ": cannot read");
            }
            if (warning)
                warning->clear();
            return false;
        }
        std::ostringstream buf;
        buf << in.rdbuf();
        if (in.bad())
            throw TacticsError(path + ": error reading");
        std::string const w = parse(buf.str(), path);
        if (warning)
            *warning = w;
        else if (!w.empty())
            std::fprintf(stderr, "warning: %s\n", w.c_str());
        return true;
    }

    // Writes the whole table to `path` atomically: a temporary file in the same folder, flushed, then
    // renamed over `path` (readers see the old file or the new one, never half of one). Throws
    // TacticsError; the temporary file is removed on failure.
    void save(std::string const& path) const
    {
        std::string tmp = path + ".tmp";
#if defined(__unix__) || defined(__APPLE__)
        tmp += "." + std::to_string(static_cast<long long>(::getpid()));
#endif
        std::string const s = text();
        std::FILE* f = std::fopen(tmp.c_str(), "wb");
        if (f == nullptr)
            throw TacticsError(path + ": cannot write (" + tmp + ")");
        bool ok = std::fwrite(s.data(), 1, s.size(), f) == s.size() && std::fflush(f) == 0;
#if defined(__unix__) || defined(__APPLE__)
        ok = ok && ::fsync(::fileno(f)) == 0;
#endif
        ok = (std::fclose(f) == 0) && ok;
        if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0)
        {
            std::remove(tmp.c_str());
            throw TacticsError(path + ": cannot write");
        }
    }

private:
    struct Value
    {
        std::string config;
        double us;
    };

    static void validate(Tactic const& t)
    {
        TacticKey const& k = t.key;
        if (k.m < 1 || k.n < 1 || k.k < 1 || k.group < 1)
            throw std::invalid_argument("tactics: M, N, K and GROUP must be positive");
        for (std::string const* s : {&k.quant, &k.gpu, &k.backend, &t.config})
            if (!tactics_detail::is_token(*s))
                throw std::invalid_argument("tactics: '" + *s + "' cannot be a field (empty, blank or '#')");
        if (!std::isfinite(t.us) || !(t.us > 0))
            throw std::invalid_argument("tactics: the time must be a positive number of microseconds");
    }

    std::string gpu_;
    std::map<TacticKey, Value> map_;
};

} // namespace vendor_slim
