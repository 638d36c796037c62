"""The emitted tree's lock (vendor.lock.json): every file with its hash, origin and licence."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vendor_slim import __version__
from vendor_slim.engine.emit.tree import OutFile, tree_path
from vendor_slim.models import EmitInput


def render_lock(inp: EmitInput, files: Sequence[OutFile]) -> str:
    return json.dumps(lock_document(inp, files), indent=2, sort_keys=False) + "\n"


def lock_document(inp: EmitInput, files: Sequence[OutFile]) -> dict[str, Any]:
    """The lock of the tree whose other files are FILES."""
    upstream: dict[str, Any] = {}
    for u in inp.upstreams:
        entry: dict[str, Any] = {"remote": u.remote, "commit": u.commit, "dirty": u.dirty}
        if u.pinned is not None:  # a submodule: the commit its superproject records, beside the one read
            entry["pinned"] = u.pinned
        if u.layout is not None:
            entry = {"layout": u.layout, **entry}
        upstream[u.name] = entry
    lock = {
        "tool": {"name": "vendor-slim", "version": __version__},
        "library": inp.library,
        "api_namespace": inp.api_namespace or None,
        "rules": {"path": inp.rules_path, "sha256": inp.rules_sha256},
        "upstream": upstream,
        "generator": {"path": inp.generator_path, "args": list(inp.generator_args)},
        "quant_ops": list(inp.quant_ops),
        "files": [{"path": f.path, "origin": f.origin, "sha256": hashlib.sha256(f.data).hexdigest(),
                   "size": len(f.data), "role": f.role, "license": f.license} for f in files],
        "kernels": [{"function": i.function, "act": i.act, "weight": i.weight, "quant_op": i.quant_op,
                     "cta": list(i.cta), "cluster": list(i.cluster), "mainloop": i.mainloop,
                     "epilogue_schedule": i.epilogue_schedule, "tu": tu}
                    for tu, insts in inp.kernel_tus for i in insts],
        "gemv": inp.gemv,
        "link": [{"source": _tree_source(inp, p), "provides": list(names)} for p, names in inp.link_sources],
        "tus": sorted(({"path": _tree_source(inp, tu.source), "role": tu.role, "lang": tu.lang} for tu in inp.tus),
                      key=lambda t: t["path"]),
    }
    if inp.extract_flags is not None:
        lock["extract"] = inp.extract_flags
    return lock


def _tree_source(inp: EmitInput, p: Path) -> str:
    return tree_path(p, inp, {u.name: u.root for u in inp.upstreams})
