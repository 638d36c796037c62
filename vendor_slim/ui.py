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
