"""Synthetic upstream trees written by the tests (exact, fast cases; no upstream code)."""

from __future__ import annotations

import textwrap
from pathlib import Path

GEN_REL = "cpp/tensorrt_llm/kernels/cutlass_kernels/python/generate_kernels.py"

TYPES_H = """\
#pragma once
struct half_t { unsigned short x; };
struct bf16_t { unsigned short x; };
struct int4_t { unsigned char x; };
struct int8_t_ { signed char x; };
namespace syn { enum class Q { A, B }; }
"""

LAUNCHER_H = """\
#pragma once
#include "syn/types.h"
namespace syn {
template <typename Act, typename W, Q Op, int Tile>
void launch(Act const* a, W const* w, int n, int* occupancy = nullptr);
}
"""

LAUNCHER_INL = """\
#pragma once
#include "syn/launcher.h"
namespace syn {
template <typename Act, typename W, Q Op, int Tile>
void launch(Act const* a, W const* w, int n, int* occupancy) { (void)a; (void)w; (void)n; (void)occupancy; }
}
"""

RUNNER_H = """\
#pragma once
#include "syn/launcher.h"
namespace syn {
template <typename Act, typename W, Q Op> struct Runner { void run(Act const* a, W const* w, int m); };
template <typename Act, typename W, Q Op>
void Runner<Act, W, Op>::run(Act const* a, W const* w, int m) {
  if (m < 64) launch<Act, W, Op, 64>(a, w, m);
  else launch<Act, W, Op, 128>(a, w, m);
  if constexpr (Op == Q::B) launch<Act, W, Op, 256>(a, w, m);
}
}
"""

# Instantiations as a generator would write them: dtypes mixed within files, comments and a macro
# guard between them.
GEN_FILE_1 = """\
#include "syn/launcher.inl"
namespace syn {
// fp16 x int4
template void launch<half_t, int4_t, syn::Q::A, 64>(half_t const*, int4_t const*, int, int*);
/* bf16 shares the file */
template void launch<bf16_t, int4_t, syn::Q::A, 64>(bf16_t const*, int4_t const*, int, int*);
#if defined(ENABLE_BF16)
template void launch<bf16_t, int4_t, syn::Q::A, 128>(bf16_t const*, int4_t const*, int, int*);
#endif
template void launch<half_t, int8_t_, syn::Q::A, 64>(half_t const*, int8_t_ const*, int, int*);
template void launch<half_t, int4_t, syn::Q::B, 64>(half_t const*, int4_t const*, int, int*);
} // namespace syn
"""

GEN_FILE_2 = """\
#include "syn/launcher.inl"
namespace syn {
template void launch<half_t, int4_t, syn::Q::A, 128>(half_t const*, int4_t const*, int, int*);
template void launch<half_t, int4_t, syn::Q::B, 128>(half_t const*, int4_t const*, int, int*);
template void launch<half_t, int4_t, syn::Q::B, 256>(half_t const*, int4_t const*, int, int*);
}
"""

RULES = """\
[target]
name = "syn"
launcher = "launch"
generated_kind = "gemm"
cuda_arch = "90a"
generator_arch = "90"
defines = []
forbidden_defines = ["ENABLE_BF16"]
arg_fields = ["act", "weight", "quant_op", "cta"]

[select]
act = ["half_t"]
weight = ["int4_t"]

[runner]
template = "syn::Runner"
args = ["half_t", "int4_t", "QUANT_OP"]

[quant_ops.fg]
enum = "syn::Q::A"
runner_tu = "syn/runner_a.cu"

[quant_ops.pc]
enum = "syn::Q::B"
runner_tu = "syn/runner_b.cu"
"""


def generator_script(files: dict[str, str]) -> str:
    body = "\n".join(
        f"    write({name!r}, {text!r})" for name, text in sorted(files.items())
    )
    return textwrap.dedent(
        """\
        import argparse, os
        p = argparse.ArgumentParser()
        p.add_argument("-o", "--output_dir", required=True)
        out = p.parse_args().output_dir
        def write(name, text):
            path = os.path.join(out, "gemm", name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        def main():
        """
    ) + (body or "    pass") + "\nmain()\n"


def make_tree(root: Path, *, generator: str | None = None, runner_b_extra: str = "") -> Path:
    """A TensorRT-LLM-2024-shaped tree (profile trtllm-2024) with a tiny launcher family."""
    files = {
        "cpp/include/tensorrt_llm/.keep": "",
        "cpp/syn/types.h": TYPES_H,
        "cpp/syn/launcher.h": LAUNCHER_H,
        "cpp/syn/launcher.inl": LAUNCHER_INL,
        "cpp/syn/runner.h": RUNNER_H,
        "cpp/syn/runner_a.cu": '#include "syn/runner.h"\ntemplate struct syn::Runner<half_t, int4_t, syn::Q::A>;\n',
        "cpp/syn/runner_b.cu": '#include "syn/runner.h"\n' + runner_b_extra
        + "template struct syn::Runner<half_t, int4_t, syn::Q::B>;\n",
        "3rdparty/cutlass/include/cutlass/cutlass.h": "#pragma once\n",
        "3rdparty/cutlass/python/cutlass_library/__init__.py": "",
        GEN_REL: generator
        if generator is not None
        else generator_script({"cutlass_kernel_file_1.generated.cu": GEN_FILE_1,
                               "cutlass_kernel_file_2.generated.cu": GEN_FILE_2}),
        "rules.toml": RULES,
    }
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


# ---------------------------------------------------------------------------------------------
# A tree to extract and build: real (tiny) CUDA kernels, a symbol defined only in a second .cpp,
# an external product's header that only a stub provides, and a header read only by the device pass.

EXTRACT_LAUNCHER_INL = """\
#pragma once
#include "syn/launcher.h"
#include "syn/log.h"
#ifdef __CUDA_ARCH__
#include "syn/device_only.h"
#endif
namespace syn {
template <typename Act, typename W, Q Op, int Tile>
__global__ void kernel(int n, int* out) {
#ifdef __CUDA_ARCH__
  if (out) out[0] = n + device_tile<Tile>();
#endif
}
template <typename Act, typename W, Q Op, int Tile>
void launch(Act const* a, W const* w, int n, int* occupancy) {
  (void)a; (void)w;
  if (n < 0) log_msg("negative n");
  kernel<Act, W, Op, Tile><<<1, 1>>>(n, occupancy);
}
}
"""

DEVICE_ONLY_H = """\
#pragma once
namespace syn { template <int T> __device__ int device_tile() { return T; } }
"""

LOG_H = """\
#pragma once
namespace syn { void log_msg(char const* what); }
"""

LOG_CPP = """\
#include "syn/log.h"
#include <cstdio>
namespace syn { void log_msg(char const* what) { std::fprintf(stderr, "syn: %s\\n", what); } }
"""

UNUSED_CPP = """\
#include "syn/log.h"
namespace syn { int debug_enabled() { return 0; } }
"""

EXTRACT_RUNNER_H = """\
#pragma once
#include "syn/launcher.h"
#include "ExtProduct.h"
namespace syn {
template <typename Act, typename W, Q Op> struct Runner { void run(Act const* a, W const* w, int m); };
}
"""

EXTRACT_RUNNER_INL = """\
#pragma once
#include "syn/runner.h"
namespace syn {
template <typename Act, typename W, Q Op>
void Runner<Act, W, Op>::run(Act const* a, W const* w, int m) {
  static_assert(EXT_PRODUCT_VERSION > 0, "stub");
  if (m < 64) launch<Act, W, Op, 64>(a, w, m);
  else launch<Act, W, Op, 128>(a, w, m);
  if constexpr (Op == Q::B) launch<Act, W, Op, 256>(a, w, m);
}
}
"""

API_H = """\
#pragma once
namespace synapi { int run(int m); }
"""

API_CU = """\
#include "synapi/synapi.h"
#include "synapi/config.h"
#include "syn/runner.h"
namespace synapi {
int run(int m) {
#if SYN_HAS_A
  syn::Runner<half_t, int4_t, syn::Q::A>().run(nullptr, nullptr, m);
#endif
#if SYN_HAS_B
  syn::Runner<half_t, int4_t, syn::Q::B>().run(nullptr, nullptr, m);
#endif
  return m;
}
}
"""

TEST_CU = """\
#include "synapi/synapi.h"
#include <cstdio>
int main() { std::printf("%d\\n", synapi::run(3)); return 0; }
"""

EXTRACT_RULES_EXTRA = """\

[[stubs]]
include = "ExtProduct.h"
text = "#pragma once\\n#define EXT_PRODUCT_VERSION 1\\n"

[[stubs]]
include = "NobodyIncludes.h"
text = "#pragma once\\n"

[emit]
templates = "templates"
library = "synlib"
sources = ["src/synapi.cu"]
public_headers = ["include/synapi/synapi.h"]
test_sources = ["test/synlib_test.cu"]
config_header = "include/synapi/config.h"
api_namespace = "synapi"
"""


def make_extract_tree(root: Path) -> Path:
    """make_tree plus what extract needs; the rules are at root/rules.toml, templates beside them."""
    make_tree(root)
    files = {
        "cpp/syn/launcher.inl": EXTRACT_LAUNCHER_INL,
        "cpp/syn/device_only.h": DEVICE_ONLY_H,
        "cpp/syn/log.h": LOG_H,
        "cpp/syn/log.cpp": LOG_CPP,
        "cpp/syn/unused.cpp": UNUSED_CPP,
        "cpp/syn/runner.h": EXTRACT_RUNNER_H,
        "cpp/syn/runner.inl": EXTRACT_RUNNER_INL,
        "cpp/syn/runner_a.cu": '#include "syn/runner.inl"\ntemplate struct syn::Runner<half_t, int4_t, syn::Q::A>;\n',
        "cpp/syn/runner_b.cu": '#include "syn/runner.inl"\ntemplate struct syn::Runner<half_t, int4_t, syn::Q::B>;\n',
        "LICENSE": "Apache License\nVersion 2.0, January 2004\n(synthetic test tree)\n",
        "3rdparty/cutlass/LICENSE.txt": "BSD-3-Clause (synthetic)\n",
        "templates/include/synapi/synapi.h": API_H,
        "templates/src/synapi.cu": API_CU,
        "templates/test/synlib_test.cu": TEST_CU,
        "rules.toml": RULES
        .replace('runner_tu = "syn/runner_a.cu"', 'runner_tu = "syn/runner_a.cu"\nmacro = "SYN_HAS_A"')
        .replace('runner_tu = "syn/runner_b.cu"', 'runner_tu = "syn/runner_b.cu"\nmacro = "SYN_HAS_B"')
        + EXTRACT_RULES_EXTRA,
    }
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root
