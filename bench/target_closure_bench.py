"""Time `vendor-slim closure` of the real W4A16 target against sequential `nvcc -M` over the same TUs.

    python bench/target_closure_bench.py --trtllm $VENDOR_SLIM_TRTLLM [--quant-op fg] [--runs 3] [--jobs 2]

The TUs are exactly the ones `vendor-slim closure` computes (runner TU, the regrouped launcher TUs,
the rules' entry sources). Cold: an empty closure cache; warm: the cache the cold run left. The
baseline runs in the same process, on the same machine. Medians of --runs runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from vendor_slim.adapters import nvcc
from vendor_slim.app.pipeline import target_units
from vendor_slim.engine.closure import compute_closure


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trtllm", type=Path, default=os.environ.get("VENDOR_SLIM_TRTLLM"))
    ap.add_argument("--quant-op", default="fg")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ns = ap.parse_args()
    if ns.trtllm is None:
        ap.error("--trtllm or VENDOR_SLIM_TRTLLM is required")
    src, tus = target_units(ns.trtllm, None, None, (ns.quant_op,))
    print(f"{len(tus)} TUs: " + ", ".join(f"{tu.role}:{tu.source.name}" for tu in tus))
    base, cold, warm = [], [], []
    for _ in range(ns.runs):
        t = time.perf_counter()
        for tu in tus:
            inc = nvcc.cuda_include_dir() if tu.lang == "cxx" else None
            nvcc.oracle_dependencies(tu.lang, tu.spec.preprocessor_args(tu.lang, inc), tu.source)
        base.append(time.perf_counter() - t)
        cache = Path(tempfile.mkdtemp(prefix="vs-bench-"))
        try:
            for fn in (getattr(nvcc, n) for n in dir(nvcc)):
                if hasattr(fn, "cache_clear"):
                    fn.cache_clear()  # cold means the toolchain queries run again too
            t = time.perf_counter()
            compute_closure(tus, src.roots, jobs=ns.jobs, cache_dir=cache)
            cold.append(time.perf_counter() - t)
            t = time.perf_counter()
            rep = compute_closure(tus, src.roots, jobs=ns.jobs, cache_dir=cache)
            warm.append(time.perf_counter() - t)
            assert rep.stats.parses == 0
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    b, c, w = (statistics.median(x) for x in (base, cold, warm))
    print(f"sequential nvcc -M: {b:.2f} s   cold closure: {c:.2f} s ({c / b:.2f}x)   "
          f"warm closure: {w:.2f} s ({w / b:.3f}x)   [median of {ns.runs}, jobs={ns.jobs}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
