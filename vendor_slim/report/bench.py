"""The benchmark results of `verify --run` as a Markdown table (bench.md)."""

from __future__ import annotations

from typing import Any


def _us(v: Any) -> str:
    return "-" if v is None else f"{float(v):.1f}"


def bench_table(results: dict[str, Any]) -> str:
    """The benchmark as a markdown table: per shape the best CUTLASS config, the GEMV where it applies,
    the dispatching entry point (gemm_auto) and cuBLAS FP16."""
    lines = [f"GPU: {results.get('gpu')} (cc {results.get('cc')}), driver {results.get('driver')}, "
             f"CUDA runtime {results.get('cuda_runtime')}; GEMV M range 1..{results.get('gemv_max_m', 0)}, "
             f"measured GEMV/CUTLASS threshold: M <= {results.get('gemv_threshold')}", "",
             "| op | M | N | K | best CUTLASS µs | GEMV µs | gemm_auto µs (choice) | cuBLAS FP16 µs | auto speedup "
             "vs cuBLAS | auto / faster path |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |"]
    for r in results.get("bench", []):
        auto = r.get("auto_us")
        choice = r.get("auto_choice") or ""
        choice = "GEMV" if choice == "gemv" else "CUTLASS"
        speed = f"{r['cublas_us'] / auto:.2f}" if auto else "-"
        ratio = f"{r['auto_vs_best']:.3f}" if r.get("auto_vs_best") is not None else "-"
        lines.append(f"| {r['op']} | {r['m']} | {r['n']} | {r['k']} | {_us(r['us'])} | {_us(r.get('gemv_us'))} | "
                     f"{_us(auto)} ({choice}) | {_us(r['cublas_us'])} | {speed} | {ratio} |")
    checks = results.get("check", [])
    worst: dict[str, float] = {}
    for c in checks:
        key = f"{c['op']}/{c.get('path', 'cutlass')}"
        worst[key] = max(worst.get(key, 0.0), float(c["max_rel_err"]))
    lines += ["", f"Correctness: {sum(1 for c in checks if c['ok'])} of {len(checks)} checks passed "
              f"(tolerance {results.get('tolerance')} of max |ref|); worst relative error per op/path: "
              + ", ".join(f"{k} {e:.2e}" for k, e in sorted(worst.items()))]
    return "\n".join(lines) + "\n"
