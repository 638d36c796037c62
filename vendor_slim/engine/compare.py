"""`vendor-slim compare`, the pure part (app/compare.py reads and writes): the results of several emitted
trees (or of one bundle) as one table and one plot per shape: each backend's best, the bundle's choice,
cuBLAS FP16, PyTorch's int4 weight-only matmul where the results carry it, and the fraction of the
bandwidth limit.

Input: the JSON a tree's test program writes with `--bench --json FILE` (or a `verify --results` folder
holding `results.json`). What is read, per file: `backend` (default "trtllm", the first tree's, which
predates the field), `gpu`, `hbm_copy_tbps` (the HBM copy bandwidth measured in the same run, read +
write), `example` (true for hand-written example data), and per `bench` row: `op`, `m`, `n`, `k`,
`group_size`, `us` (the backend's best config) and `gemv_us` (TensorRT-LLM's GEMV; the backend's best is
the faster of the two), `best_name`, `auto_us` / `auto_choice` (the tree's own per-shape choice: for a
bundle, the bundle's choice), `cublas_us`, `torch_int4_us`, and for a bundle `backend_us` (each
backend's best, by name). Missing optional fields show as "-".

Bandwidth limit of a shape: (weights K*N/2 + scales (K/group)*N*2 + activations M*K*2 + output M*N*2)
bytes over the measured HBM copy bandwidth; "% of limit" is that time over the measured one."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vendor_slim.adapters import rasterplot
from vendor_slim.errors import BadInput


@dataclass(frozen=True)
class Row:
    op: str
    m: int
    n: int
    k: int
    group: int
    best_us: float | None
    best_what: str
    choice_us: float | None
    choice_what: str
    cublas_us: float | None
    torch_int4_us: float | None
    backend_us: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Results:
    path: Path
    backend: str
    gpu: str
    hbm_copy_tbps: float | None
    example: bool
    rows: tuple[Row, ...]


@dataclass
class Line:
    """One M of one shape in the comparison."""

    m: int
    best: dict[str, tuple[float, str]] = field(default_factory=dict)  # series -> (us, what)
    choice: tuple[float, str] | None = None  # the bundle's
    cublas_us: float | None = None
    torch_int4_us: float | None = None
    limit_us: float | None = None

    def fastest(self) -> tuple[str, float] | None:
        if not self.best:
            return None
        name = min(self.best, key=lambda s: self.best[s][0])
        return name, self.best[name][0]

    def reference_us(self) -> float | None:
        """What the shape runs at: the bundle's choice, else the fastest backend."""
        if self.choice is not None:
            return self.choice[0]
        f = self.fastest()
        return f[1] if f else None


@dataclass
class Shape:
    n: int
    k: int
    group: int
    lines: dict[int, Line] = field(default_factory=dict)


@dataclass
class Comparison:
    sources: list[Results]
    series: list[str]
    shapes: list[Shape]
    has_bundle: bool
    hbm_copy_tbps: float | None
    notes: list[str]

    @property
    def example(self) -> bool:
        return any(s.example for s in self.sources)


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    x = float(v)
    return x if math.isfinite(x) and x > 0 else None


def _int(path: Path, i: int, r: dict[str, Any], key: str) -> int:
    v = r.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise BadInput(f"{path}: bench row {i + 1}: '{key}' must be a positive integer (got {v!r})")
    return v


def parse(doc: Any, path: Path) -> Results:
    """One results document (`path` names it in errors). BadInput for anything malformed."""
    if not isinstance(doc, dict) or not isinstance(doc.get("bench"), list) or not doc["bench"]:
        raise BadInput(f"{path}: no 'bench' rows (want the JSON a test program writes with --bench --json)")
    rows = []
    for i, r in enumerate(doc["bench"]):
        if not isinstance(r, dict):
            raise BadInput(f"{path}: bench row {i + 1} is not an object")
        m, n, k = (_int(path, i, r, key) for key in ("m", "n", "k"))
        group = r.get("group_size")
        group = group if isinstance(group, int) and not isinstance(group, bool) and group > 0 else k
        cands = [(u, str(r.get("best_name") or "best config")) for u in (_num(r.get("us")),) if u is not None]
        if (g := _num(r.get("gemv_us"))) is not None:
            cands.append((g, "gemv"))
        best = min(cands) if cands else None
        choice = _num(r.get("auto_us"))
        raw = r.get("backend_us")
        per_backend: dict[str, Any] = raw if isinstance(raw, dict) else {}
        rows.append(Row(op=str(r.get("op", "")), m=m, n=n, k=k, group=group,
                        best_us=best[0] if best else None, best_what=best[1] if best else "",
                        choice_us=choice, choice_what=str(r.get("auto_choice") or ""),
                        cublas_us=_num(r.get("cublas_us")), torch_int4_us=_num(r.get("torch_int4_us")),
                        backend_us={str(b): u for b, v in per_backend.items() if (u := _num(v)) is not None}))
    backend = doc.get("backend") if isinstance(doc.get("backend"), str) and doc.get("backend") else "trtllm"
    return Results(path=path, backend=str(backend), gpu=str(doc.get("gpu") or "?"),
                   hbm_copy_tbps=_num(doc.get("hbm_copy_tbps")), example=doc.get("example") is True,
                   rows=tuple(rows))


def limit_us(m: int, n: int, k: int, group: int, hbm_tbps: float) -> float:
    """The bandwidth limit: weights + scales + activations + output bytes at the HBM copy rate."""
    nbytes = k * n // 2 + (k // max(group, 1)) * n * 2 + m * k * 2 + m * n * 2
    return nbytes / (hbm_tbps * 1e12) * 1e6


def merge(sources: Sequence[Results]) -> Comparison:
    notes: list[str] = []
    gpus = sorted({s.gpu for s in sources})
    if len(gpus) > 1:
        notes.append(f"the results come from different GPUs ({', '.join(gpus)}): times are not comparable")
    bws = [s.hbm_copy_tbps for s in sources if s.hbm_copy_tbps is not None]
    hbm = bws[0] if bws else None
    if hbm is None:
        notes.append("no results carry hbm_copy_tbps (the HBM copy bandwidth): no bandwidth limit shown")
    elif max(bws) > 1.05 * min(bws):
        notes.append(f"HBM copy bandwidth differs between runs ({min(bws):.2f} to {max(bws):.2f} TB/s); the limit "
                     f"uses {hbm:.2f} TB/s (the first)")
    has_bundle = any(s.backend == "bundle" for s in sources)
    series: list[str] = []
    shapes: dict[tuple[int, int], Shape] = {}
    labels: dict[tuple[int, str], str] = {}
    shared = {s.backend for s in sources if sum(t.backend == s.backend for t in sources) > 1}
    for idx, src in enumerate(sources):
        ops = sorted({r.op for r in src.rows})
        for op in ops:
            base = src.backend if len(ops) == 1 else f"{src.backend} {op}"
            if src.backend in shared:  # several runs of one backend: say which run
                base += f" [{src.path.parent.name or src.path.stem}]"
            label, n = base, 2
            while label in series:
                label, n = f"{base} #{n}", n + 1
            if src.backend != "bundle":
                series.append(label)
            labels[(idx, op)] = label
        for r in src.rows:
            sh = shapes.setdefault((r.n, r.k), Shape(r.n, r.k, r.group))
            if sh.group != r.group:
                notes.append(f"N={r.n} K={r.k}: group sizes differ ({sh.group}, {r.group}); the limit uses "
                             f"{sh.group}")
            ln = sh.lines.setdefault(r.m, Line(r.m))
            if src.backend == "bundle":
                if r.choice_us is not None:
                    ln.choice = (r.choice_us, r.choice_what)
                for b, u in sorted(r.backend_us.items()):
                    label = f"{b} (bundle)"  # apart from a standalone tree's run of the same backend
                    if label not in series:
                        series.append(label)
                    ln.best.setdefault(label, (u, "in the bundle"))
            elif r.best_us is not None:
                ln.best[labels[(idx, r.op)]] = (r.best_us, r.best_what)
            ln.cublas_us = ln.cublas_us or r.cublas_us
            ln.torch_int4_us = ln.torch_int4_us or r.torch_int4_us
            if hbm is not None:
                ln.limit_us = limit_us(r.m, r.n, r.k, sh.group, hbm)
    ordered = [shapes[key] for key in sorted(shapes, key=lambda nk: (nk[0] * nk[1], nk))]
    return Comparison(sources=list(sources), series=series, shapes=ordered, has_bundle=has_bundle,
                      hbm_copy_tbps=hbm, notes=sorted(set(notes), key=notes.index))


def _us(v: float | None) -> str:
    return "-" if v is None else f"{v:,.1f}"


def png_name(sh: Shape) -> str:
    return f"compare-n{sh.n}-k{sh.k}.png"


def markdown(c: Comparison) -> str:
    out = ["# W4A16 comparison", ""]
    if c.example:
        out += ["**EXAMPLE DATA**: at least one input is hand-written example data, not a measurement.", ""]
    out += ["| results | backend | GPU | HBM copy TB/s |", "| --- | --- | --- | ---: |"]
    for s in c.sources:
        bw = "-" if s.hbm_copy_tbps is None else f"{s.hbm_copy_tbps:.2f}"
        out.append(f"| {s.path} | {s.backend}{' (example)' if s.example else ''} | {s.gpu} | {bw} |")
    out.append("")
    out += [f"Note: {n}." for n in c.notes] + ([""] if c.notes else [])
    ref = "bundle" if c.has_bundle else "fastest"
    for sh in c.shapes:
        out += [f"## N = {sh.n}, K = {sh.k} (group {sh.group})", "", f"![N={sh.n} K={sh.k}]({png_name(sh)})", ""]
        head = ["M", *[f"{s} µs" for s in c.series], "fastest"]
        if c.has_bundle:
            head += ["bundle µs (choice)", "bundle / fastest"]
        head += ["cuBLAS FP16 µs", "PyTorch int4 µs", "limit µs", f"% of limit ({ref})", f"x cuBLAS ({ref})"]
        out += ["| " + " | ".join(head) + " |", "| " + " | ".join(["---:"] * len(head)) + " |"]
        for m in sorted(sh.lines):
            ln = sh.lines[m]
            cells = [str(m)]
            for name in c.series:
                cells.append(_us(ln.best[name][0]) if name in ln.best else "-")
            f = ln.fastest()
            cells.append(f[0] if f else "-")
            if c.has_bundle:
                cells.append(f"{_us(ln.choice[0])} ({ln.choice[1] or '?'})" if ln.choice else "-")
                cells.append(f"{ln.choice[0] / f[1]:.3f}" if ln.choice and f else "-")
            r = ln.reference_us()
            cells += [_us(ln.cublas_us), _us(ln.torch_int4_us), _us(ln.limit_us),
                      f"{100 * ln.limit_us / r:.0f} %" if ln.limit_us and r else "-",
                      f"{ln.cublas_us / r:.2f}" if ln.cublas_us and r else "-"]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def chart(c: Comparison, sh: Shape) -> rasterplot.Chart:
    ms = sorted(sh.lines)
    series: list[rasterplot.Series] = []
    markers = ("square", "circle", "triangle", "cross")
    for i, s in enumerate(c.series):
        pts = tuple((float(m), sh.lines[m].best[s][0]) for m in ms if s in sh.lines[m].best)
        series.append(rasterplot.Series(f"{s} best", pts, rasterplot.PALETTE[i % len(rasterplot.PALETTE)],
                                        marker=markers[i % len(markers)]))
    refs: list[tuple[str, list[tuple[float, float]], tuple[int, int, int], tuple[int, ...], str, int]] = [
        ("bundle choice", [(float(m), ch[0]) for m in ms if (ch := sh.lines[m].choice)], (0, 0, 0), (2, 3), "cross", 2),
        ("cuBLAS FP16", [(float(m), u) for m in ms if (u := sh.lines[m].cublas_us)], (0, 0, 0), (9, 6), "none", 2),
        ("PyTorch int4", [(float(m), u) for m in ms if (u := sh.lines[m].torch_int4_us)], (150, 110, 0), (9, 6),
         "none", 2),
        ("bandwidth limit", [(float(m), u) for m in ms if (u := sh.lines[m].limit_us)], (128, 128, 128), (3, 4),
         "none", 2),
    ]
    for label, ref_pts, color, dash, marker, width in refs:
        if ref_pts:
            series.append(rasterplot.Series(label, tuple(ref_pts), color, dash, width, marker))
    gpus = sorted({src.gpu for src in c.sources})
    title = f"N={sh.n} K={sh.k} group {sh.group} - {', '.join(gpus)}{' (EXAMPLE DATA)' if c.example else ''}"
    return rasterplot.Chart(title=title, x_label="M", y_label="us (median)", series=tuple(series))


def to_json(c: Comparison) -> dict[str, Any]:
    return {
        "example": c.example,
        "sources": [{"path": str(s.path), "backend": s.backend, "gpu": s.gpu, "hbm_copy_tbps": s.hbm_copy_tbps}
                    for s in c.sources],
        "series": c.series,
        "notes": c.notes,
        "shapes": [{"n": sh.n, "k": sh.k, "group": sh.group, "plot": png_name(sh), "rows": [
            {"m": ln.m, "best_us": {s: v[0] for s, v in ln.best.items()},
             "best_config": {s: v[1] for s, v in ln.best.items()},
             "fastest": (f := ln.fastest()) and f[0],
             "bundle_us": ln.choice[0] if ln.choice else None, "bundle_choice": ln.choice[1] if ln.choice else None,
             "cublas_us": ln.cublas_us, "torch_int4_us": ln.torch_int4_us, "limit_us": ln.limit_us}
            for ln in (sh.lines[m] for m in sorted(sh.lines))]} for sh in c.shapes],
    }
