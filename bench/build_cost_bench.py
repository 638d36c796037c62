"""Build cost of the manual method against the tool's selection, compiled in one run with the same -j.

The manual method keeps every generated file that `grep -v "__nv_fp8\\|__nv_bfloat16"` lets through
(on C1: 12 files, 96 instantiations, 56 of them INT8) and compiles them as they are. The tool
compiles only the FINEGRAINED FP16 x INT4 launchers the runner needs, regrouped into its own TUs.

    # here (needs C1 and nvcc): the TUs and every in-tree file nvcc -M says they read, relocatable
    python bench/build_cost_bench.py prepare --trtllm C1 --out .bench/build-cost
    # on the GPU machine (or anywhere with nvcc for sm_90a):
    python bench/build_cost_bench.py run .bench/build-cost -j 8 --json results.json

`run` compiles the two sets one after the other with the same flags and parallelism, each compile
under vendor_slim/adapters/measure.py (wall, CPU time of the compile's process tree, peak memory),
and reports per set the summed CPU time and the wall time from first start to last finish, and the
tool/manual ratios. With --runs R it repeats both sets R times (alternating which goes first) and
reports medians.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MEASURE = Path(__file__).resolve().parent.parent / "vendor_slim" / "adapters" / "measure.py"
GREP_OUT = ("__nv_fp8", "__nv_bfloat16")
FLAGS = ["-std=c++17", "-O3", "-DNDEBUG", "-gencode=arch=compute_90a,code=sm_90a", "--expt-relaxed-constexpr"]


def prepare(trtllm: Path, out: Path) -> int:
    from vendor_slim.adapters import nvcc
    from vendor_slim.adapters.cache import cache_dir
    from vendor_slim.app.pipeline import load
    from vendor_slim.targets.trtllm_fpaintb.generate import generated_files, run_generator
    from vendor_slim.targets.trtllm_fpaintb.select import select_kernels
    from vendor_slim.targets.trtllm_fpaintb.units import compile_spec, group_instantiations, launcher_sources

    src, rules, ops = load(trtllm, None, None, ("fg",))
    cache = cache_dir()
    rep = select_kernels(src, rules, ops, cache)
    gen_root, _ = run_generator(src, rules.target.generator_arch, cache)
    generated = generated_files(gen_root, src, rules.target.generator_arch)
    manual = [p for p in generated if not any(s in p.read_text() for s in GREP_OUT)]
    keep = [inst for i, inst in enumerate(rep.instantiations) if i in rep.selected and i in rep.needed]
    groups = group_instantiations(keep, rules.target.instantiations_per_tu)
    tool = launcher_sources(groups, rules, rep.analysis.preamble, rep.analysis.namespace, "the generator")
    if out.exists():
        shutil.rmtree(out)
    (out / "manual").mkdir(parents=True)
    (out / "tool").mkdir(parents=True)
    for p in manual:
        shutil.copyfile(p, out / "manual" / p.name)
    for name, text in tool:
        (out / "tool" / name).write_text(text)
    spec = compile_spec(src, rules)
    args = spec.preprocessor_args("cu")
    root = src.path.resolve()
    deps: set[Path] = set()
    for p in [*sorted((out / "manual").iterdir()), *sorted((out / "tool").iterdir())]:
        for d in nvcc.oracle_dependencies("cu", args, p):
            if root in d.parents:
                deps.add(d)
    for d in sorted(deps):
        dest = out / "tree" / d.relative_to(root)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(d, dest)
    n_manual = sum(1 for inst in rep.instantiations if Path(gen_root, inst.file) in manual)
    meta = {
        "source": str(trtllm), "layout": src.layout,
        "include_dirs": [f"tree/{Path(d).resolve().relative_to(root)}" for d in spec.include_dirs],
        "defines": list(spec.defines),
        "manual": {"files": sorted(p.name for p in manual), "instantiations": n_manual},
        "tool": {"files": [n for n, _ in tool], "instantiations": len(keep)},
        "tree_files": len(deps),
    }
    (out / "bench.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"{out}: manual {len(manual)} files / {n_manual} instantiations; tool {len(tool)} TUs / "
          f"{len(keep)} instantiations; {len(deps)} in-tree files")
    return 0


def _compile(nvcc: str, folder: Path, meta: dict[str, Any], src: Path, obj: Path, log: Path) -> None:
    cmd = [sys.executable, str(MEASURE), str(log), nvcc, *FLAGS,
           *[f"-I{folder / d}" for d in meta["include_dirs"]], *[f"-D{d}" for d in meta["defines"]],
           "-c", str(src), "-o", str(obj)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"compile of {src.name} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def _run_set(nvcc: str, folder: Path, meta: dict[str, Any], which: str, jobs: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"vs-build-{which}-"))
    try:
        sources = [folder / which / f for f in meta[which]["files"]]
        start = time.perf_counter()
        with cf.ThreadPoolExecutor(max_workers=jobs) as pool:
            futs = [pool.submit(_compile, nvcc, folder, meta, s, work / f"{s.name}.o", work / "log") for s in sources]
            for f in futs:
                f.result()
        wall = time.perf_counter() - start
        recs = [json.loads(p.read_text()) for p in (work / "log").glob("*.json")]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"wall_s": round(wall, 1), "cpu_s": round(sum(r["cpu_s"] for r in recs), 1),
            "peak_mb": max(r["peak_mb"] for r in recs), "tus": len(recs),
            "per_tu": sorted(({"source": Path(r["source"]).name, "wall_s": r["wall_s"], "cpu_s": r["cpu_s"],
                               "peak_mb": r["peak_mb"]} for r in recs), key=lambda r: r["source"])}


def run(folder: Path, jobs: int, runs: int, out_json: Path | None) -> int:
    meta = json.loads((folder / "bench.json").read_text())
    nvcc = shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc"
    results: dict[str, list[dict[str, Any]]] = {"manual": [], "tool": []}
    for r in range(runs):
        order = ("tool", "manual") if r % 2 == 0 else ("manual", "tool")
        for which in order:
            res = _run_set(nvcc, folder, meta, which, jobs)
            results[which].append(res)
            print(f"run {r + 1} {which}: {res['tus']} TUs, wall {res['wall_s']} s, CPU {res['cpu_s']} s, "
                  f"peak {res['peak_mb']:.0f} MB", flush=True)
    med = {w: {k: statistics.median(x[k] for x in results[w]) for k in ("wall_s", "cpu_s", "peak_mb")}
           for w in results}
    ratio = {"cpu": round(med["tool"]["cpu_s"] / med["manual"]["cpu_s"], 3),
             "wall": round(med["tool"]["wall_s"] / med["manual"]["wall_s"], 3)}
    summary = {"jobs": jobs, "runs": runs, "cpu_count": os.cpu_count(), "meta": meta, "median": med,
               "ratio_tool_over_manual": ratio, "runs_detail": results}
    print(f"median over {runs} run(s), -j{jobs}: manual {meta['manual']['instantiations']} inst in "
          f"{len(meta['manual']['files'])} files: CPU {med['manual']['cpu_s']:.0f} s, wall "
          f"{med['manual']['wall_s']:.0f} s | tool {meta['tool']['instantiations']} inst in "
          f"{len(meta['tool']['files'])} TUs: CPU {med['tool']['cpu_s']:.0f} s, wall {med['tool']['wall_s']:.0f} s "
          f"| ratio CPU {ratio['cpu']}, wall {ratio['wall']}")
    if out_json:
        out_json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--trtllm", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    r = sub.add_parser("run")
    r.add_argument("folder", type=Path)
    r.add_argument("-j", "--jobs", type=int, default=8)
    r.add_argument("--runs", type=int, default=1)
    r.add_argument("--json", type=Path, default=None)
    ns = ap.parse_args()
    if ns.cmd == "prepare":
        return prepare(ns.trtllm, ns.out)
    return run(ns.folder, ns.jobs, ns.runs, ns.json)


if __name__ == "__main__":
    sys.exit(main())
