"""`vendor-slim compare RESULTS.json... [-o DIR]`: read the results, merge and render them
(engine/compare.py), write the table, the JSON and one PNG per shape."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from vendor_slim.adapters import rasterplot
from vendor_slim.adapters.fs import atomic_write_bytes, atomic_write_text
from vendor_slim.engine.compare import Results, chart, markdown, merge, parse, png_name, to_json
from vendor_slim.errors import BadInput


def load(path: Path) -> Results:
    """One results file (or a folder holding results.json)."""
    if path.is_dir():
        path = path / "results.json"
    try:
        text = path.read_text()
    except OSError as exc:
        raise BadInput(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path}:{exc.lineno}: not JSON ({exc.msg})") from exc
    return parse(doc, path)


def compare(paths: Sequence[Path], out: Path | None) -> tuple[str, list[Path]]:
    """The Markdown table, and with `out` the files written there (one PNG per shape, compare.json,
    compare.md). Every input is read and checked, and every plot drawn, before anything is written."""
    if not paths:
        raise BadInput("compare needs at least one results file")
    c = merge([load(p) for p in paths])
    md = markdown(c)
    if out is None:
        return md, []
    images = [(out / png_name(sh), rasterplot.render(chart(c, sh))) for sh in c.shapes if sh.lines]
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"cannot create {out}: {exc.strerror}") from exc
    written = []
    for path, data in images:
        atomic_write_bytes(path, data)
        written.append(path)
    atomic_write_text(out / "compare.json", json.dumps(to_json(c), indent=2) + "\n")
    atomic_write_text(out / "compare.md", md)  # last: its links point at the plots
    return md, [*written, out / "compare.json", out / "compare.md"]
