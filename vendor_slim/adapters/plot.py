"""The benchmark plot (matplotlib, optional: without it no plot is written)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def bench_plot(results: dict[str, Any], path: Path) -> bool:
    """W4A16 and cuBLAS FP16 time against M, one panel per N x K; False when matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    rows = results.get("bench", [])
    shapes = sorted({(r["n"], r["k"]) for r in rows})
    if not shapes:
        return False
    fig, axes = plt.subplots(1, len(shapes), figsize=(4.5 * len(shapes), 4), squeeze=False)
    for ax, (n, k) in zip(axes[0], shapes, strict=True):
        for op in sorted({r["op"] for r in rows}):
            sel = sorted((r for r in rows if (r["n"], r["k"]) == (n, k) and r["op"] == op), key=lambda r: r["m"])
            ax.plot([r["m"] for r in sel], [r["us"] for r in sel], "o-", label=f"CUTLASS {op} (best config)")
            g = [r for r in sel if r.get("gemv_us") is not None]
            if g:
                ax.plot([r["m"] for r in g], [r["gemv_us"] for r in g], "^-", label=f"GEMV {op}")
            a = [r for r in sel if r.get("auto_us") is not None]
            if a:
                ax.plot([r["m"] for r in a], [r["auto_us"] for r in a], "x:", label=f"gemm_auto {op}")
        sel = sorted((r for r in rows if (r["n"], r["k"]) == (n, k)), key=lambda r: r["m"])
        ax.plot([r["m"] for r in sel], [r["cublas_us"] for r in sel], "s--", label="cuBLAS FP16")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(f"N={n}, K={k}")
        ax.set_xlabel("M")
        ax.set_ylabel("µs (median)")
        ax.grid(True, alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(f"{results.get('gpu')}: W4A16 (CUTLASS SM90, GEMV, gemm_auto) vs cuBLAS FP16")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True
