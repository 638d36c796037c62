"""`extract`: analyse, plan and write the standalone tree."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from vendor_slim.app.pipeline import Built, build, emit_input, forbidden_outputs, load
from vendor_slim.app.settings import Settings
from vendor_slim.engine.compilecheck import compile_check as run_compile_check
from vendor_slim.engine.emit.lock import render_lock
from vendor_slim.engine.emit.plan import check_units, counts_of, plan_tree
from vendor_slim.engine.emit.write import check_out, write_tree
from vendor_slim.errors import BadInput
from vendor_slim.layout import TreeCounts


def run(settings: Settings, out: Path, force: bool, compile_check: bool = True) -> tuple[str, Built, TreeCounts]:
    """Returns (created|replaced|unchanged, the analysed target, the tree's counts). With
    COMPILE_CHECK, the tool-written files are compiled in the written temporary tree before it is put
    in place (a failure is exit 1 and leaves --out as it was)."""
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
    for u in inp.upstreams:
        if u.pinned and u.commit and u.pinned != u.commit:
            # a warning, not an error: the tree is what was read; the lock records both commits
            sys.stderr.write(f"vendor-slim: warning: {u.repo} is checked out at {u.commit}, not at the commit "
                             f"{b.src.path.name} pins for it ({u.pinned}); the lock records both\n")
    files = plan_tree(inp)
    lock = render_lock(inp, files)
    units = check_units(inp) if compile_check else []
    check = (lambda tree: run_compile_check(tree, units)) if units else None
    return write_tree(out, files, lock, force=force, check=check), b, counts_of(files)
