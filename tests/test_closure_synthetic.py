"""The include closure on small trees written here, each case checked against the real oracle
(`nvcc -M` for `cu`, `c++ -M` for `cxx`) and against the file set the case is built to produce."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import pytest

from vendor_slim.adapters import nvcc
from vendor_slim.engine import closure as cl
from vendor_slim.errors import BadInput, CheckFailed, ExternalToolError
from vendor_slim.models import ClosureReport, CompileSpec, Lang, Roots, TranslationUnit
from vendor_slim.report.graph import export_graph


@pytest.fixture(scope="module", autouse=True)
def _need_nvcc() -> None:
    try:
        nvcc.nvcc_path()
    except BadInput as exc:
        pytest.skip(f"the oracle needs nvcc: {exc.message}")


class Tree:
    """A tiny upstream tree: `include/` and `src/` (TensorRT-LLM side) and `cutlass/include/`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.roots = Roots(trtllm=root, cutlass=root / "cutlass")
        self.include_dirs: list[Path] = [root / "include", root / "cutlass" / "include"]

    def write(self, rel: str, text: str) -> Path:
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip())
        return p

    def tu(self, rel: str, lang: Lang = "cu", defines: Sequence[str] = ()) -> TranslationUnit:
        spec = CompileSpec(include_dirs=tuple(self.include_dirs), defines=tuple(defines))
        return TranslationUnit(self.root / rel, "launcher", lang, spec)

    def closure(self, tus: Sequence[TranslationUnit], cache: Path, jobs: int = 2) -> ClosureReport:
        return cl.compute_closure(tus, self.roots, jobs=jobs, cache_dir=cache)

    def rel(self, files: Sequence[Path]) -> set[str]:
        return {p.relative_to(self.root).as_posix() for p in files}


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path / "up")


def check(tree: Tree, tmp_path: Path, tu: TranslationUnit, expected: set[str]) -> ClosureReport:
    """Closure == expected, and the oracle agrees exactly (no missing, no extra in-tree file)."""
    report = tree.closure([tu], tmp_path / "cache")
    c = report.tus[0]
    assert tree.rel(c.files) == expected
    missing, extra = cl.oracle_diff(tu, c, tree.roots)
    assert (missing, extra) == ([], [])
    return report


def test_device_pass_only_header_is_read(tree: Tree, tmp_path: Path) -> None:
    tree.write("include/dev_only.h", "int dev_only;\n")
    tree.write("include/host_only.h", "int host_only;\n")
    tree.write("include/arch_900.h", "int arch_900;\n")
    tree.write("src/a.cu", """
        #ifdef __CUDA_ARCH__
        #include "dev_only.h"
        #if __CUDA_ARCH__ == 900 && defined(__CUDA_ARCH_FEAT_SM90_ALL)
        #include "arch_900.h"
        #endif
        #else
        #include "host_only.h"
        #endif
        int main() { return 0; }
    """)
    check(tree, tmp_path, tree.tu("src/a.cu"),
          {"src/a.cu", "include/dev_only.h", "include/host_only.h", "include/arch_900.h"})


def test_clang_only_paths_follow_nvcc(tree: Tree, tmp_path: Path) -> None:
    # CUTLASS turns WMMA off under clang's CUDA mode and gates TMA traits on nvcc's version macro.
    tree.write("cutlass/include/wmma.h", "int wmma;\n")
    tree.write("cutlass/include/clang_only.h", "int clang_only;\n")
    tree.write("cutlass/include/tma.h", "int tma;\n")
    tree.write("cutlass/include/not_nvcc.h", "int not_nvcc;\n")
    tree.write("src/a.cu", """
        #if !(defined(__clang__) && defined(__CUDA__))
        #include "wmma.h"
        #endif
        #if defined(__clang__)
        #include "clang_only.h"
        #endif
        #if defined(__CUDACC_VER_MAJOR__) && __CUDACC_VER_MAJOR__ >= 12 && defined(__NVCC__)
        #include "tma.h"
        #endif
        #if !defined(__CUDACC__)
        #include "not_nvcc.h"
        #endif
    """)
    check(tree, tmp_path, tree.tu("src/a.cu"), {"src/a.cu", "cutlass/include/wmma.h", "cutlass/include/tma.h"})


def test_host_compiler_builtins_not_clangs(tree: Tree, tmp_path: Path) -> None:
    # `__has_feature` exists in clang but not in every gcc: whatever the host compiler says wins.
    tree.write("include/feat.h", "int feat;\n")
    tree.write("include/nofeat.h", "int nofeat;\n")
    tree.write("src/a.cu", """
        #if defined(__has_feature)
        #include "feat.h"
        #else
        #include "nofeat.h"
        #endif
    """)
    report = tree.closure([tree.tu("src/a.cu")], tmp_path / "cache")
    files = tree.rel(report.tus[0].files)
    assert len(files & {"include/feat.h", "include/nofeat.h"}) == 1
    assert cl.oracle_diff(tree.tu("src/a.cu"), report.tus[0], tree.roots) == ([], [])


def test_macro_computed_include(tree: Tree, tmp_path: Path) -> None:
    tree.write("include/computed.h", "int computed;\n")
    tree.write("include/gen_name.h", "int gen_name;\n")
    tree.write("include/by_define.h", "int by_define;\n")
    tree.write("src/a.cu", """
        #define HDR "computed.h"
        #include HDR
        #define STR(x) #x
        #define XSTR(x) STR(x)
        #define NAME gen_name
        #include XSTR(NAME.h)
        #include FROM_COMMAND_LINE
    """)
    tu = tree.tu("src/a.cu", defines=['FROM_COMMAND_LINE="by_define.h"'])
    check(tree, tmp_path, tu, {"src/a.cu", "include/computed.h", "include/gen_name.h", "include/by_define.h"})


def test_include_next(tree: Tree, tmp_path: Path) -> None:
    tree.include_dirs = [tree.root / "include" / "first", tree.root / "include" / "second"]
    tree.write("include/first/wrap.h", "#include_next <wrap.h>\nint first;\n")
    tree.write("include/second/wrap.h", "int second;\n")
    tree.write("src/a.cu", "#include <wrap.h>\n")
    report = check(tree, tmp_path, tree.tu("src/a.cu"),
                   {"src/a.cu", "include/first/wrap.h", "include/second/wrap.h"})
    edges = {(a.name, a.parent.name, b.parent.name, n) for a, b, n in report.tus[0].edges if b.name == "wrap.h"}
    assert ("wrap.h", "first", "second", 1) in edges


def test_include_cycle_terminates(tree: Tree, tmp_path: Path) -> None:
    tree.write("include/x.h", "#pragma once\n#include \"y.h\"\nint x;\n")
    tree.write("include/y.h", "#ifndef Y_H\n#define Y_H\n#include \"x.h\"\nint y;\n#endif\n")
    tree.write("src/a.cu", "#include \"x.h\"\n")
    report = check(tree, tmp_path, tree.tu("src/a.cu"), {"src/a.cu", "include/x.h", "include/y.h"})
    g = report.graph
    x, y = str(tree.root / "include/x.h"), str(tree.root / "include/y.h")
    assert g.has_edge(x, y) and g.nodes[y]["kind"] == "in-tree" and g.nodes[x]["root"] == "trtllm"


def test_missing_header_names_it_and_the_chain(tree: Tree, tmp_path: Path) -> None:
    tree.write("include/mid.h", "#include \"deeper.h\"\n")
    tree.write("cutlass/include/deeper.h", "#include \"extensions/gone_compat.h\"\n")
    tree.write("src/a.cu", "#include <cstdio>\n#include \"mid.h\"\n")
    tu = tree.tu("src/a.cu")
    with pytest.raises(BadInput) as info:
        tree.closure([tu], tmp_path / "cache")
    err = info.value
    assert err.exit_code == 2
    assert "extensions/gone_compat.h" in err.message
    assert err.chain[0] == str(tree.root / "src/a.cu")
    assert err.chain[1:3] == (str(tree.root / "include/mid.h"), str(tree.root / "cutlass/include/deeper.h"))
    assert "gone_compat.h" in err.chain[-1]
    assert "include chain" in err.render()
    # the oracle fails on the same input
    with pytest.raises(ExternalToolError):
        nvcc.oracle_dependencies("cu", tu.spec.preprocessor_args("cu"), tu.source)


def test_missing_external_header_is_listed_not_fatal(tree: Tree, tmp_path: Path) -> None:
    ext = tmp_path / "ext"
    (ext / "sys").mkdir(parents=True)
    (ext / "sys" / "vendor.h").write_text("#include <vendor_missing_part.h>\n")
    tree.write("src/a.cu", "#include <sys/vendor.h>\n")
    tu = tree.tu("src/a.cu", defines=())
    tu = TranslationUnit(tu.source, tu.role, tu.lang,
                         CompileSpec(include_dirs=(*tu.spec.include_dirs, ext), defines=()))
    report = tree.closure([tu], tmp_path / "cache")
    assert report.tus[0].unresolved == ("vendor_missing_part.h",)
    assert ext / "sys" / "vendor.h" in report.tus[0].external


def test_cxx_tu_matches_host_compiler(tree: Tree, tmp_path: Path) -> None:
    tree.write("include/common.h", "int common;\n")
    tree.write("include/cuda_side.h", "int cuda_side;\n")
    tree.write("src/b.cpp", """
        #include "common.h"
        #if defined(__CUDACC__) || defined(__NVCC__)
        #include "cuda_side.h"
        #endif
        #include <vector>
        #include <cuda_runtime_api.h>
    """)
    report = check(tree, tmp_path, tree.tu("src/b.cpp", lang="cxx"), {"src/b.cpp", "include/common.h"})
    c = report.tus[0]
    assert "-isystem" in c.args  # cxx args name CUDA's include dir themselves (the contract)
    assert any(p.name == "cuda_runtime_api.h" for p in c.external)
    assert report.stats.parses == 1  # one host pass


def _launcher_like(tree: Tree, rel: str, body: str) -> Path:
    text = '// generated\n#include "kernels/launcher.inl"\n#include <cutlass/numeric.h>\n\nnamespace k {\n'
    return tree.write(rel, text + body + "\n}\n")


def test_same_preamble_parsed_once_and_cached(tree: Tree, tmp_path: Path) -> None:
    tree.write("include/kernels/launcher.inl",
               "#include \"kernels/traits.h\"\ntemplate <int N> int f() { return N; }\n")
    tree.write("include/kernels/traits.h", "#ifdef __CUDA_ARCH__\n#include \"kernels/dev.h\"\n#endif\n")
    tree.write("include/kernels/dev.h", "int dev;\n")
    tree.write("cutlass/include/cutlass/numeric.h", "int numeric;\n")
    _launcher_like(tree, "gen/one.generated.cu", "template int f<1>();")
    _launcher_like(tree, "gen/two.generated.cu", "template int f<2>();\ntemplate int f<3>();")
    tree.write("gen/other.generated.cu", "#include \"kernels/traits.h\"\nint other;\n")
    tus = [tree.tu("gen/one.generated.cu"), tree.tu("gen/two.generated.cu"), tree.tu("gen/other.generated.cu")]
    cache = tmp_path / "cache"
    shared = {"include/kernels/launcher.inl", "include/kernels/traits.h", "include/kernels/dev.h",
              "cutlass/include/cutlass/numeric.h"}

    first = tree.closure(tus, cache)
    # one and two share a preamble: one job (host + device parse); other is its own job
    assert (first.stats.jobs, first.stats.parses, first.stats.shared_tus, first.stats.cache_hits) == (2, 4, 1, 0)
    assert tree.rel(first.tus[0].files) == shared | {"gen/one.generated.cu"}
    assert tree.rel(first.tus[1].files) == shared | {"gen/two.generated.cu"}
    assert tree.rel(first.tus[2].files) == {"gen/other.generated.cu", "include/kernels/traits.h",
                                            "include/kernels/dev.h"}
    for tu, c in zip(tus, first.tus, strict=True):
        assert cl.oracle_diff(tu, c, tree.roots) == ([], [])
    # the shared parse's edges are rewritten to each TU
    assert any(a == tree.root / "gen/two.generated.cu" for a, _b, _n in first.tus[1].edges)

    again = tree.closure(tus, cache)
    assert (again.stats.parses, again.stats.cache_hits) == (0, 2)
    assert [c.files for c in again.tus] == [c.files for c in first.tus]
    assert [c.edges for c in again.tus] == [c.edges for c in first.tus]

    # the shared entry serves the group whichever of its TUs comes first
    swapped = tree.closure([tus[1], tus[0], tus[2]], cache)
    assert (swapped.stats.parses, swapped.stats.cache_hits) == (0, 2)
    assert swapped.tus[0] == first.tus[1] and swapped.tus[1] == first.tus[0]

    # a changed header invalidates exactly the jobs that read it
    tree.write("cutlass/include/cutlass/numeric.h", "#include \"cutlass/half.h\"\n")
    tree.write("cutlass/include/cutlass/half.h", "int half;\n")
    changed = tree.closure(tus, cache, jobs=1)
    assert (changed.stats.parses, changed.stats.cache_hits) == (2, 1)
    assert "cutlass/include/cutlass/half.h" in tree.rel(changed.tus[1].files)
    assert cl.oracle_diff(tus[1], changed.tus[1], tree.roots) == ([], [])


def test_preamble_split() -> None:
    text = '// c\n/* multi\nline */\n#include "a.h"\n#  include <b.h> // tail\nnamespace x {}\n#include "c.h"\n'
    pre, rest = cl.split_preamble(text)
    assert pre.endswith("// tail\n") and rest.startswith("namespace x")
    assert cl.shareable_preamble(text) is None  # an #include after the preamble
    assert cl.shareable_preamble('#include "a.h"\nint x;\n') == '#include "a.h"\n'
    assert cl.shareable_preamble("int x;\n") is None


def test_why_and_graph_exports(tree: Tree, tmp_path: Path) -> None:
    tree.write("include/top.h", "#include \"mid.h\"\n#include \"leaf.h\"\n")
    tree.write("include/mid.h", "#include \"leaf.h\"\n")
    tree.write("include/leaf.h", "int leaf;\n")
    tree.write("src/a.cu", "#include \"top.h\"\n")
    report = tree.closure([tree.tu("src/a.cu")], tmp_path / "cache")
    chain = cl.why(report, tree.root / "include/leaf.h")
    assert chain[0].name == "a.cu" and chain[-1].name == "leaf.h" and len(chain) == 3
    assert cl.why(report, Path("leaf.h"))[-1] == tree.root / "include/leaf.h"
    with pytest.raises(CheckFailed, match="not read by any TU"):  # exit 1: a plain answer, not bad input
        cl.why(report, tree.root / "include/nope.h")

    data = json.loads(export_graph(report.graph, "json"))
    ids = {n["id"] for n in data["nodes"]}
    assert str(tree.root / "include/leaf.h") in ids
    assert any(e["source"].endswith("mid.h") and e["target"].endswith("leaf.h") and e["line"] == 1
               for e in data["edges"])
    kinds = {n["kind"] for n in data["nodes"]}
    assert kinds == {"in-tree", "external"}  # cuda_runtime.h and its system headers are external

    ET.fromstring(export_graph(report.graph, "graphml"))
    dot = export_graph(report.graph, "dot")
    assert dot.startswith("digraph") and f'"{tree.root / "include/top.h"}" -> "{tree.root / "include/mid.h"}"' in dot
    assert export_graph(report.graph, "dot") == dot  # deterministic
    with pytest.raises(BadInput):
        export_graph(report.graph, "svg")  # type: ignore[arg-type]
