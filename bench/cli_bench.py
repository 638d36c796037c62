"""Time the CLI as a user runs it: whole `vendor-slim` processes, against sequential `nvcc -M` of the same TUs.

For each command (kernels, closure, extract, why), each repetition runs it once with an empty
VENDOR_SLIM_CACHE (cold) and once more with the cache that run left (warm); the report gives the
median of the repetitions. A cold run takes minutes on a small machine: with --cold-commands, the
other commands get one cold run followed by RUNS warm ones. The baseline, measured in the same
run, is `nvcc -M` (`c++ -M` for host TUs) run one TU after another over exactly the TUs that
`closure --json` lists, with the arguments it lists (the contract's oracle command). The machine's
load average is recorded before and after.

    python bench/cli_bench.py --trtllm $VENDOR_SLIM_TRTLLM --quant-op fg --runs 3 [--cold-commands closure]
        [--json out.json]
"""

from __future__ import annotations

import argparse
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

from vendor_slim.adapters import nvcc

COMMANDS = ("kernels", "closure", "extract", "why")


def _cli(args: list[str], cache: Path) -> float:
    env = {**os.environ, "VENDOR_SLIM_CACHE": str(cache)}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "vendor_slim", "-q", *args], env=env, capture_output=True,
                          text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"vendor-slim {' '.join(args)} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return wall


def _args(cmd: str, trtllm: str, ops: list[str], out: Path, why_file: str) -> list[str]:
    q = [a for op in ops for a in ("--quant-op", op)]
    if cmd == "kernels":
        return ["kernels", "--trtllm", trtllm, *q, "--json"]
    if cmd == "closure":
        return ["closure", "--trtllm", trtllm, *q, "--json"]
    if cmd == "extract":
        return ["extract", "--trtllm", trtllm, *q, "--out", str(out), "--json"]
    return ["why", why_file, "--trtllm", trtllm, *q, "--json"]


def nvcc_baseline(doc: dict[str, Any]) -> float:
    """Sequential `nvcc -M` / `c++ -M` over the closure's TUs: seconds for all of them."""
    start = time.perf_counter()
    for tu in doc["tus"]:
        cmd = nvcc.oracle_command(tu["lang"], tu["args"], Path(tu["source"]))
        cmd.insert(1, "-M")  # as oracle_dependencies runs it
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout[-1000:]}{done.stderr[-1000:]}")
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trtllm", required=True)
    ap.add_argument("--quant-op", action="append", default=None)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--commands", default=",".join(COMMANDS))
    ap.add_argument("--cold-commands", default="",
                    help="Commands that get RUNS cold runs (default: all); the others get one cold run.")
    ap.add_argument("--why-file", default="cutlass/gemm/collective/collective_builder.hpp")
    ap.add_argument("--json", type=Path, default=None, help="Also write the figures here.")
    a = ap.parse_args()
    ops = a.quant_op or ["fg"]
    cmds = [c for c in a.commands.split(",") if c]
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="vendor-slim-cli-bench-"))
    try:
        # the TUs of the baseline: the closure's own list (one warm-up run fills a cache for it)
        cache0 = work / "cache-baseline"
        env = {**os.environ, "VENDOR_SLIM_CACHE": str(cache0)}
        q = [x for op in ops for x in ("--quant-op", op)]
        done = subprocess.run([sys.executable, "-m", "vendor_slim", "-q", "closure", "--trtllm", a.trtllm, *q,
                               "--json"], env=env, capture_output=True, text=True, check=True)
        doc = json.loads(done.stdout)
        base = [nvcc_baseline(doc) for _ in range(a.runs)]
        print(f"nvcc -M: {', '.join(f'{b:.2f}' for b in base)} s", file=sys.stderr, flush=True)
        times: dict[str, dict[str, list[float]]] = {c: {"cold": [], "warm": []} for c in cmds}
        cold_for = set(a.cold_commands.split(",")) if a.cold_commands else set(cmds)
        for c in cmds:
            # a cold run costs minutes: RUNS of them where asked, else one, followed by RUNS warm runs
            n_cold = a.runs if c in cold_for else 1
            for k in range(n_cold):
                cache = work / f"cache-{c}-{k}"
                t = _cli(_args(c, a.trtllm, ops, work / f"out-{c}-{k}-cold", a.why_file), cache)
                times[c]["cold"].append(t)
                print(f"{c} cold {t:.2f} s (load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
                for w in range(1 if n_cold > 1 else a.runs):
                    t = _cli(_args(c, a.trtllm, ops, work / f"out-{c}-{k}-warm{w}", a.why_file), cache)
                    times[c]["warm"].append(t)
                    print(f"{c} warm {t:.2f} s", file=sys.stderr, flush=True)
                shutil.rmtree(cache, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    nv = statistics.median(base)
    result: dict[str, Any] = {
        "tree": a.trtllm, "quant_ops": ops, "runs": a.runs, "tus": len(doc["tus"]), "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before], "load_after": [round(x, 2) for x in os.getloadavg()],
        "nvcc_M_s": round(nv, 2), "nvcc_M_runs": [round(x, 2) for x in base], "commands": {},
    }
    print(f"C2 {'+'.join(ops)}: {len(doc['tus'])} TUs; sequential nvcc -M {nv:.2f} s (median of {a.runs}); "
          f"load {load_before[0]:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| command | cold s | cold / nvcc -M | warm s | warm / nvcc -M |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for c in cmds:
        cold, warm = statistics.median(times[c]["cold"]), statistics.median(times[c]["warm"])
        result["commands"][c] = {"cold_s": round(cold, 2), "warm_s": round(warm, 2),
                                 "cold_ratio": round(cold / nv, 3), "warm_ratio": round(warm / nv, 3),
                                 "cold_runs": [round(x, 2) for x in times[c]["cold"]],
                                 "warm_runs": [round(x, 2) for x in times[c]["warm"]]}
        n = f" ({len(times[c]['cold'])} cold, {len(times[c]['warm'])} warm runs)"
        print(f"| `{c}`{n} | {cold:.2f} | {cold / nv:.2f}x | {warm:.2f} | {warm / nv:.3f}x |")
    if a.json:
        a.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
