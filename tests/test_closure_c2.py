"""The include closure on C2 (a complete TensorRT-LLM checkout) equals the contract's oracle per TU."""

from __future__ import annotations

from pathlib import Path

import pytest

from vendor_slim.engine import closure as cl
from vendor_slim.models import CompileSpec, Lang, Roots, TranslationUnit

pytestmark = pytest.mark.c2

KERNELS = "cpp/tensorrt_llm/kernels/cutlass_kernels"


def c2_spec(c2: Path) -> CompileSpec:
    return CompileSpec(
        include_dirs=(c2 / "cpp/include", c2 / "cpp", c2 / "cpp/tensorrt_llm/cutlass_extensions/include",
                      c2 / "3rdparty/cutlass/include", c2 / "3rdparty/cutlass/tools/util/include"),
        defines=("COMPILE_HOPPER_TMA_GEMMS",),
    )


@pytest.mark.parametrize(
    ("rel", "lang", "role"),
    [
        (f"{KERNELS}/fpA_intB_gemm/fp16_int4_gemm_fg_scaleonly.cu", "cu", "runner"),
        (f"{KERNELS}/cutlass_heuristic.cpp", "cxx", "link"),
        (f"{KERNELS}/cutlass_preprocessors.cpp", "cxx", "link"),
    ],
)
def test_tu_equals_oracle(c2_root: Path, tmp_path: Path, rel: str, lang: Lang, role: str) -> None:
    roots = Roots(trtllm=c2_root, cutlass=c2_root / "3rdparty/cutlass")
    tu = TranslationUnit(c2_root / rel, "runner" if role == "runner" else "link", lang, c2_spec(c2_root))
    report = cl.compute_closure([tu], roots, jobs=2, cache_dir=tmp_path / "cache")
    c = report.tus[0]
    assert cl.oracle_diff(tu, c, roots) == ([], [])
    assert c.files[0] != c.source and c.source in c.files
    assert report.stats.parses == (2 if lang == "cu" else 1)
    if lang == "cu":
        # corpora.md: clang's CUDA mode misses CUTLASS's WMMA headers here; nvcc reads them
        assert any("wmma" in f.name for f in c.files)
