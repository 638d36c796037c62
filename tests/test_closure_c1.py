"""The include closure on C1 (FlashInfer's bundled TensorRT-LLM subset) equals `nvcc -M` exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from vendor_slim.engine import closure as cl
from vendor_slim.models import CompileSpec, Roots, TranslationUnit

pytestmark = pytest.mark.c1

PREAMBLE = '#include "tensorrt_llm/kernels/cutlass_kernels/fpA_intB_gemm/launchers/fpA_intB_launcher_sm90.inl"\n'
# One FP16 x uint4b_t FINEGRAINED_SCALE_ONLY launcher, in the form the generator writes.
INSTANTIATION = """
namespace tensorrt_llm
{
namespace kernels
{
namespace cutlass_kernels_oss
{
template void sm90_generic_mixed_gemm_kernelLauncher<half, cutlass::uint4b_t, half, half, half,
cutlass::WeightOnlyQuantOp::FINEGRAINED_SCALE_ONLY, tensorrt_llm::cutlass_extensions::EpilogueOpBias,
cute::Shape<cute::Int<128>, cute::Int<16>, cute::Int<64>>, cute::Shape<cute::Int<1>, cute::Int<1>, cute::Int<1>>,
cutlass::gemm::KernelTmaWarpSpecializedCooperative, cutlass::epilogue::TmaWarpSpecializedCooperative> (
const half*, const cutlass::uint4b_t*, const half*, const half*, const half*, const float,
half*, int, int, int, const int, tensorrt_llm::cutlass_extensions::CutlassGemmConfig, char*, size_t, cudaStream_t, int*
);
}
}
}
"""


def c1_spec(c1: Path) -> CompileSpec:
    d = c1 / "data"
    return CompileSpec(
        include_dirs=(d / "csrc/nv_internal/include", d / "csrc/nv_internal",
                      d / "csrc/nv_internal/tensorrt_llm/cutlass_extensions/include",
                      d / "cutlass/include", d / "cutlass/tools/util/include"),
        defines=("COMPILE_HOPPER_TMA_GEMMS",),
    )


def test_launcher_tu_equals_nvcc(c1_root: Path, tmp_path: Path) -> None:
    gen = tmp_path / "gemm" / "90"
    gen.mkdir(parents=True)
    a = gen / "launcher_a.generated.cu"
    b = gen / "launcher_b.generated.cu"
    a.write_text(PREAMBLE + INSTANTIATION)
    b.write_text(PREAMBLE + "\n" + INSTANTIATION.replace("cute::Int<16>", "cute::Int<32>"))
    roots = Roots(trtllm=c1_root, cutlass=c1_root / "data" / "cutlass")
    tus = [TranslationUnit(p, "launcher", "cu", c1_spec(c1_root)) for p in (a, b)]

    report = cl.compute_closure(tus, roots, jobs=2, cache_dir=tmp_path / "cache")
    c = report.tus[0]
    in_tree = [f for f in c.files if f != a]
    assert len(in_tree) == 523  # corpora.md: nvcc -M of one launcher reads 523 in-tree files
    assert cl.oracle_diff(tus[0], c, roots) == ([], [])
    assert not c.unresolved
    # the two launchers share a preamble: one job, host + device parse
    assert (report.stats.jobs, report.stats.parses, report.stats.shared_tus) == (1, 2, 1)
    assert [f for f in report.tus[1].files if f != b] == in_tree
    cutlass_files = [f for f in in_tree if report.graph.nodes[str(f)]["root"] == "cutlass"]
    assert len(cutlass_files) > 400
    # the TMA copy traits that clang's CUDA mode would skip are there
    assert any(f.name == "copy_traits_sm90_tma.hpp" for f in in_tree)
    chain = cl.why(report, c1_root / "data/cutlass/include/cute/arch/mma_sm90_gmma.hpp")
    assert chain[0] in (a, b) and chain[-1].name == "mma_sm90_gmma.hpp"

    warm = cl.compute_closure(tus, roots, jobs=2, cache_dir=tmp_path / "cache")
    assert (warm.stats.parses, warm.stats.cache_hits) == (0, 1)
    assert warm.tus == report.tus
