"""Human-readable output with rich."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from vendor_slim.layout import upstream_phrase


def _console() -> Console:
    """stdout's console: on a terminal its width (cells wrap, never cut); piped, wide enough that each row
    stays on one line (for grep); colour as --color / NO_COLOR say."""
    import os
    import sys

    from vendor_slim.adapters import progress

    mode = progress.color_mode()
    tty = sys.stdout.isatty()
    no_color = mode == "never" or (mode == "auto" and (bool(os.environ.get("NO_COLOR")) or not tty))
    return Console(width=None if tty else 100_000, no_color=no_color, force_terminal=mode == "always" or None,
                   highlight=False, soft_wrap=not tty)


def _table(title: str, columns: tuple[str, ...], right: tuple[str, ...] = ()) -> Table:
    table = Table(title=title)
    for col in columns:
        # fold: a cell too wide for a narrow terminal wraps inside its column instead of being cut
        table.add_column(col, overflow="fold", justify="right" if col in right else "left")
    return table


def _shape(v: list[int]) -> str:
    return "x".join(str(x) for x in v)


def print_kernels(doc: dict[str, Any]) -> None:
    console = _console()
    table = _table(f"{doc['source']['layout']}: {doc['source']['path']}",
                   ("file", "#", "act", "weight", "quant op", "cta", "cluster", "mainloop", "epilogue", "sel",
                    "runner"))
    for inst in doc["instantiations"]:
        if not (inst["selected"] or inst["needed_by_runner"]):
            continue
        table.add_row(
            inst["file"].rsplit("/", 1)[-1], str(inst["index"]), inst["act"], inst["weight"], inst["quant_op"],
            _shape(inst["cta"]), _shape(inst["cluster"]), inst["mainloop"].rsplit("::", 1)[-1],
            inst["epilogue_schedule"].rsplit("::", 1)[-1],
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


def print_closure(doc: dict[str, Any], seconds: float, oracle: bool, shown: dict[str, str] | None = None) -> None:
    """SHOWN: each TU's path as the user knows it (upstream-relative; the emitted tree's for tool files)."""
    shown = shown or {}
    console = _console()
    table = _table("include closure", ("role", "lang", "TU", "in-tree files", "external", "unresolved"),
                   right=("in-tree files", "external", "unresolved"))
    for tu in doc["tus"]:
        table.add_row(tu["role"], tu["lang"], shown.get(tu["source"], tu["source"]), str(len(tu["files"])),
                      str(len(tu["external"])), str(len(tu["unresolved"])))
    console.print(table)
    trt = doc["roots"]["trtllm"].rstrip("/") + "/"
    cut = doc["roots"]["cutlass"].rstrip("/") + "/"
    n_cut = sum(f.startswith(cut) for f in doc["union"])
    n_trt = sum(f.startswith(trt) and not f.startswith(cut) for f in doc["union"])
    # worded and counted as extract's summary and the emitted README count the files they copy
    console.print(f"union: {upstream_phrase({'trtllm': n_trt, 'cutlass': n_cut})}, {seconds:.1f} s")
    if oracle:
        o = doc["oracle"]
        console.print(f"oracle (nvcc -M): {len(o['missing'])} missing, {len(o['extra'])} extra")
        for m in o["missing"]:
            console.print(f"  [red]missing[/red] {m}")
        for e in o["extra"]:
            console.print(f"  [yellow]extra[/yellow] {e}")


def print_verify(report: Any) -> None:
    console = _console()
    lk = report.lock
    console.print(f"[bold]{report.dir}[/bold]")
    console.print(f"lock: {'ok' if lk.ok else 'FAILED'} ({len(lk.edited)} edited, {len(lk.missing)} missing, "
                  f"{len(lk.extra)} extra)")
    b = report.build
    if b is None:
        return
    table = _table(f"compiles (-j{b.jobs})", ("TU", "wall s", "CPU s", "peak MB"), right=("wall s", "CPU s", "peak MB"))
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


def print_why(doc: dict[str, Any]) -> None:
    """`why`: per match its chain, one `file:line` (of the #include of the next file) per step, TU first."""
    import click

    matches = doc["matches"]
    if len(matches) > 1:
        click.echo(f"{doc['file']} names {len(matches)} files the target reads; the shortest chain to each "
                   "(give a longer path to pick one):")
    for m in matches:
        if len(matches) > 1:
            click.echo(f"\n{m['file']}:")
        for depth, step in enumerate(m["chain"]):
            where = f"{step['file']}:{step['line']}" if step["line"] is not None else step["file"]
            role = f"  ({step['role']} TU)" if depth == 0 and step.get("role") else ""
            click.echo(f"{'  ' * depth}{where}{role}")
