"""`extract`: analyse, plan and write the standalone tree."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from vendor_slim.app.pipeline import Built, build, emit_input, forbidden_outputs, load
from vendor_slim.app.settings import Settings
from vendor_slim.engine.emit.lock import render_lock
from vendor_slim.engine.emit.plan import plan_tree
from vendor_slim.engine.emit.write import check_out, write_tree
from vendor_slim.errors import BadInput


def run(settings: Settings, out: Path, force: bool) -> tuple[str, Built, int]:
    """Returns (created|replaced|unchanged, the analysed target, the tree's file count)."""
    ld = load(settings)
    check_out(out, forbidden_outputs(settings, ld.src))  # before the long analysis
    b = build(settings, ld)
    if b.link.unresolved:
        raise BadInput("the link closure found no in-tree source for: " + "; ".join(b.link.unresolved))
    inp = emit_input(b)
    # the lock records what was asked for: `sync` and `diff` re-extract with exactly these
    inp = replace(inp, extract_flags={"quant_ops": list(inp.quant_ops), "kernels_only": settings.shape.kernels_only,
                                      "max_kernels": settings.shape.max_kernels, "per_tu": settings.shape.per_tu,
                                      "rules": inp.rules_path})
    files = plan_tree(inp)
    lock = render_lock(inp, files)
    return write_tree(out, files, lock, force=force), b, len(files) + 1
