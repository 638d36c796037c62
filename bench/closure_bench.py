"""Time the include-closure stage cold (empty cache) and warm against sequential `nvcc -M`.

    python bench/closure_bench.py --layout c1 --tree $VENDOR_SLIM_C1 [--generated DIR] [--limit 8]
    python bench/closure_bench.py --layout c2 --tree $VENDOR_SLIM_TRTLLM

c1: launcher TUs, either the generator's `*.generated.cu` files in --generated, or (without it)
synthetic ones written to a temporary folder (the generated preamble plus one FP16 x INT4
instantiation each, a different tile per file). c2: the runner TU and the five link sources.
Every figure is the median of --runs runs made in this process, on this machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from vendor_slim.adapters import nvcc
from vendor_slim.engine import closure as cl
from vendor_slim.models import CompileSpec, Roots, TranslationUnit

_LAUNCHER = """#include "tensorrt_llm/kernels/cutlass_kernels/fpA_intB_gemm/launchers/fpA_intB_launcher_sm90.inl"
namespace tensorrt_llm {{ namespace kernels {{ namespace cutlass_kernels_oss {{
template void sm90_generic_mixed_gemm_kernelLauncher<half, cutlass::uint4b_t, half, half, half,
cutlass::WeightOnlyQuantOp::FINEGRAINED_SCALE_ONLY, tensorrt_llm::cutlass_extensions::EpilogueOpBias,
cute::Shape<cute::Int<128>, cute::Int<{n}>, cute::Int<64>>, cute::Shape<cute::Int<1>, cute::Int<1>, cute::Int<1>>,
cutlass::gemm::KernelTmaWarpSpecializedCooperative, cutlass::epilogue::TmaWarpSpecializedCooperative> (
const half*, const cutlass::uint4b_t*, const half*, const half*, const half*, const float,
half*, int, int, int, const int, tensorrt_llm::cutlass_extensions::CutlassGemmConfig, char*, size_t,
cudaStream_t, int*);
}} }} }}
"""


def c1_tus(tree: Path, generated: Path | None, limit: int, scratch: Path) -> tuple[Roots, list[TranslationUnit]]:
    d = tree / "data"
    spec = CompileSpec(
        include_dirs=(d / "csrc/nv_internal/include", d / "csrc/nv_internal",
                      d / "csrc/nv_internal/tensorrt_llm/cutlass_extensions/include",
                      d / "cutlass/include", d / "cutlass/tools/util/include"),
        defines=("COMPILE_HOPPER_TMA_GEMMS",),
    )
    if generated is not None:
        files = sorted(generated.glob("*.generated.cu"))[:limit]
    else:
        files = []
        for i in range(limit):
            p = scratch / f"launcher_{i}.generated.cu"
            p.write_text(_LAUNCHER.format(n=16 * (i + 1)))
            files.append(p)
    return Roots(trtllm=tree, cutlass=d / "cutlass"), [TranslationUnit(f, "launcher", "cu", spec) for f in files]


def c2_tus(tree: Path) -> tuple[Roots, list[TranslationUnit]]:
    spec = CompileSpec(
        include_dirs=(tree / "cpp/include", tree / "cpp", tree / "cpp/tensorrt_llm/cutlass_extensions/include",
                      tree / "3rdparty/cutlass/include", tree / "3rdparty/cutlass/tools/util/include"),
        defines=("COMPILE_HOPPER_TMA_GEMMS",),
    )
    k = tree / "cpp/tensorrt_llm/kernels/cutlass_kernels"
    c = tree / "cpp/tensorrt_llm/common"
    tus = [TranslationUnit(k / "fpA_intB_gemm/fp16_int4_gemm_fg_scaleonly.cu", "runner", "cu", spec)]
    tus += [TranslationUnit(p, "link", "cxx", spec) for p in (
        k / "cutlass_heuristic.cpp", k / "cutlass_preprocessors.cpp",
        c / "logger.cpp", c / "stringUtils.cpp", c / "tllmException.cpp")]
    return Roots(trtllm=tree, cutlass=tree / "3rdparty/cutlass"), tus


def _forget_toolchain() -> None:
    """A cold run must also ask nvcc and the host compiler again (they are memoised in-process)."""
    for fn in (nvcc._passes, nvcc._macros, nvcc._builtin_includes, nvcc._undefined_builtins):
        fn.cache_clear()


def median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layout", choices=("c1", "c2"), default="c1")
    ap.add_argument("--tree", type=Path, help="C1 flashinfer/ folder or C2 checkout (default: $VENDOR_SLIM_C1 "
                    "or $VENDOR_SLIM_TRTLLM)")
    ap.add_argument("--generated", type=Path, help="c1: folder of *.generated.cu files (default: synthetic TUs)")
    ap.add_argument("--limit", type=int, default=8, help="c1: number of launcher TUs")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ns = ap.parse_args(argv)
    env = "VENDOR_SLIM_C1" if ns.layout == "c1" else "VENDOR_SLIM_TRTLLM"
    tree = ns.tree or (Path(os.environ[env]) if os.environ.get(env) else None)
    if tree is None or not tree.is_dir():
        print(f"no tree: pass --tree or set {env}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="closure-bench-") as tmp:
        scratch = Path(tmp)
        roots, tus = c1_tus(tree, ns.generated, ns.limit, scratch) if ns.layout == "c1" else c2_tus(tree)
        print(f"{ns.layout}: {len(tus)} TUs, jobs={ns.jobs}, runs={ns.runs}, cpus={os.cpu_count()}")

        def oracle() -> None:
            for tu in tus:
                cuda = nvcc.cuda_include_dir() if tu.lang == "cxx" else None
                nvcc.oracle_dependencies(tu.lang, tu.spec.preprocessor_args(tu.lang, cuda), tu.source)

        runs = iter(range(10**6))

        def cold() -> None:
            _forget_toolchain()
            cl.compute_closure(tus, roots, jobs=ns.jobs, cache_dir=scratch / f"cold-{next(runs)}")

        warm_cache = scratch / "warm"
        report = cl.compute_closure(tus, roots, jobs=ns.jobs, cache_dir=warm_cache)

        def warm() -> None:
            _forget_toolchain()
            r = cl.compute_closure(tus, roots, jobs=ns.jobs, cache_dir=warm_cache)
            assert r.stats.parses == 0

        t_oracle = median_time(oracle, ns.runs)
        t_cold = median_time(cold, ns.runs)
        t_warm = median_time(warm, ns.runs)
        diffs = [cl.oracle_diff(tu, c, roots) for tu, c in zip(tus, report.tus, strict=True)]
        bad = sum(len(m) + len(e) for m, e in diffs)
        print(f"jobs (distinct parses) {report.stats.jobs}, libclang parses {report.stats.parses}, "
              f"union {len(report.union)} in-tree files, oracle differences {bad}")
        print(f"sequential nvcc/c++ -M : {t_oracle:8.2f} s")
        print(f"closure cold           : {t_cold:8.2f} s  ({t_cold / t_oracle:.2f}x the oracle)")
        print(f"closure warm           : {t_warm:8.2f} s  ({t_warm / t_oracle:.3f}x the oracle)")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
