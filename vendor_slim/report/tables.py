"""Human-readable output with rich."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def _shape(v: list[int]) -> str:
    return "x".join(str(x) for x in v)


def print_kernels(doc: dict[str, Any]) -> None:
    console = Console()
    table = Table(title=f"{doc['source']['layout']}: {doc['source']['path']}")
    for col in ("file", "#", "act", "weight", "quant op", "cta", "cluster", "mainloop", "sel", "runner"):
        table.add_column(col)
    for inst in doc["instantiations"]:
        if not (inst["selected"] or inst["needed_by_runner"]):
            continue
        table.add_row(
            inst["file"].rsplit("/", 1)[-1], str(inst["index"]), inst["act"], inst["weight"], inst["quant_op"],
            _shape(inst["cta"]), _shape(inst["cluster"]), inst["mainloop"].rsplit("::", 1)[-1],
            "yes" if inst["selected"] else "no", "needs" if inst["needed_by_runner"] else "-",
        )
    console.print(table)
    s = doc["summary"]
    console.print(
        f"{doc['generator']['files']} generated files, {s['total']} instantiations; "
        f"selected {s['selected']}, needed by the runner {s['needed_by_runner']}, "
        f"missing for the runner {s['missing_for_runner']}"
    )
    for m in doc["missing_for_runner"]:
        console.print(f"  [red]missing[/red]: {m}")


def print_closure(doc: dict[str, Any], seconds: float, oracle: bool) -> None:
    console = Console()
    table = Table(title="include closure")
    for col in ("role", "lang", "TU", "in-tree files", "external", "unresolved"):
        table.add_column(col)
    for tu in doc["tus"]:
        table.add_row(tu["role"], tu["lang"], tu["source"].rsplit("/", 1)[-1], str(len(tu["files"])),
                      str(len(tu["external"])), str(len(tu["unresolved"])))
    console.print(table)
    trt = doc["roots"]["trtllm"].rstrip("/") + "/"
    cut = doc["roots"]["cutlass"].rstrip("/") + "/"
    n_cut = sum(f.startswith(cut) for f in doc["union"])
    n_trt = sum(f.startswith(trt) and not f.startswith(cut) for f in doc["union"])
    console.print(f"union: {len(doc['union'])} in-tree files ({n_trt} TensorRT-LLM, {n_cut} CUTLASS), "
                  f"{seconds:.1f} s")
    if oracle:
        o = doc["oracle"]
        console.print(f"oracle (nvcc -M): {len(o['missing'])} missing, {len(o['extra'])} extra")
        for m in o["missing"]:
            console.print(f"  [red]missing[/red] {m}")
        for e in o["extra"]:
            console.print(f"  [yellow]extra[/yellow] {e}")


def print_verify(report: Any) -> None:
    console = Console()
    lk = report.lock
    console.print(f"[bold]{report.dir}[/bold]")
    console.print(f"lock: {'ok' if lk.ok else 'FAILED'} ({len(lk.edited)} edited, {len(lk.missing)} missing, "
                  f"{len(lk.extra)} extra)")
    b = report.build
    if b is None:
        return
    table = Table(title=f"compiles (-j{b.jobs})")
    for col in ("TU", "wall s", "CPU s", "peak MB"):
        table.add_column(col, justify="left" if col == "TU" else "right")
    for t in b.tus:
        table.add_row(t.source, f"{t.wall_s:.1f}", f"{t.cpu_s:.1f}", f"{t.peak_mb:.0f}")
    console.print(table)
    console.print(f"build: {'ok' if b.ok else 'FAILED'}; wall {b.wall_s:.1f} s, CPU {b.cpu_s:.1f} s, "
                  f"peak {b.peak_mb:.0f} MB per TU")
    if b.ok:
        console.print(f"hermetic: {'ok' if not b.outside else f'{len(b.outside)} files from outside'}; "
                      f"minimal: {'ok' if not b.unused else f'{len(b.unused)} unused'}; "
                      f"link: {'ok (shared library linked with --no-undefined)' if b.link_ok else 'FAILED'}")
    if report.run is not None:
        res = report.run.get("results") or {}
        console.print(f"run: exit {report.run['returncode']}; checks ok: {res.get('ok')}")
