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
