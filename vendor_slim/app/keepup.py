"""Application layer for keeping a published tree current (issue 7): `publish` and `diff`.

`publish` checks the tree against its lock (as `verify --no-build` does) and commits it. `diff` plans
the tree another upstream would give, in memory, with the same pipeline `extract` runs (nothing is
written to DIR), and compares the two locks.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from vendor_slim import __version__
from vendor_slim.adapters.gitinfo import git_info
from vendor_slim.app.pipeline import Built, build, emit_input, kernels, load, public_remote
from vendor_slim.app.settings import Settings
from vendor_slim.engine.diff import KERNEL_KEY, diff_files, diff_kernels, diff_licenses, upstream_changed
from vendor_slim.engine.emit.lock import lock_document
from vendor_slim.engine.emit.plan import plan_tree
from vendor_slim.engine.publish import PublishResult
from vendor_slim.engine.publish import publish as publish_tree
from vendor_slim.engine.verify import check_lock, read_lock
from vendor_slim.errors import BadInput, VendorSlimError
from vendor_slim.layout import TreeCounts
from vendor_slim.models import Lock, Shape
from vendor_slim.targets import registry


def lock_problems(tree: Path, lock: Lock) -> list[str]:
    """`verify --no-build`'s lock check, except that a repository's `.git` at the top is not an extra file."""
    res = check_lock(tree, lock)
    extra = [p for p in res.extra if p.split("/", 1)[0] != ".git"]
    return [f"{len(items)} file(s) {what}: {', '.join(items[:10])}"
            for what, items in (("edited", res.edited), ("missing", res.missing), ("not in the lock", extra))
            if items]


def publish(tree: Path, repo: Path | None, tag: str | None, text: str | None) -> PublishResult:
    lock = read_lock(tree)
    problems = lock_problems(tree, lock)
    if problems:
        raise BadInput(f"{tree} does not match its lock (vendor-slim verify --no-build {tree}); refusing to "
                       "publish it:\n" + "\n".join(f"- {p}" for p in problems))
    return publish_tree(tree, lock, repo, tag=tag, text=text)


# ---------------------------------------------------------------------------------------------
# diff


def _shape(lock: Lock, default_per_tu: int) -> Shape:
    """The extraction shape the lock shows: no runner/API TUs is --kernels-only; a grouping of the kernels
    into TUs that the rules' instantiations per TU would not give is --per-tu (the largest TU's count).
    --max-kernels is not recorded."""
    roles = {t.get("role") for t in lock.tus}
    kernels_only = bool(roles) and not roles & {"runner", "api"}
    per = Counter(k.get("tu") for k in lock.kernels)
    n = sum(per.values())
    per_tu = None
    if n and math.ceil(n / max(default_per_tu, 1)) != len(per):  # extract groups n kernels into even TUs
        per_tu = max(per.values())
    return Shape(kernels_only=kernels_only, per_tu=per_tu)


def recorded_flags(lock: Lock, default_per_tu: int) -> tuple[tuple[str, ...], Shape]:
    """The quant ops and shape the tree was extracted with: the lock's `extract` record, or for a lock
    written before it existed, what the lock's TUs and kernels show."""
    rec = lock.extract
    if rec:
        def count(key: str) -> int | None:
            v = rec.get(key)
            return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else None

        ops = tuple(str(q) for q in rec.get("quant_ops") or lock.quant_ops)
        return ops, Shape(kernels_only=bool(rec.get("kernels_only")), max_kernels=count("max_kernels"),
                          per_tu=count("per_tu"))
    return lock.quant_ops, _shape(lock, default_per_tu)


def _asked(tree: Path, old: Lock, settings: Settings) -> Settings:
    """SETTINGS with the quant ops, shape and rules the tree was extracted with."""
    target = registry.for_tree(settings.tree, settings.target)
    rel = str(old.extract.get("rules") or old.rules.get("path") or "")
    rules_path = settings.rules or target.lock_rules(rel)
    if rules_path is None and rel and not rel.startswith("rules/"):
        raise BadInput(f"{tree} was extracted with the rules file {rel}, which is not one of this installation's; "
                       "pass it with --rules")
    ops, _ = recorded_flags(old, 1)
    asked = replace(settings, quant_ops=ops, rules=rules_path)
    _, shape = recorded_flags(old, target.default_per_tu(asked.options()))
    return replace(asked, shape=shape)


def sync(tree: Path, settings: Settings) -> tuple[str, Built, TreeCounts]:
    """Re-extract TREE from SETTINGS.tree with exactly the flags its lock records (like `vendir sync`)."""
    from vendor_slim.app import extract as app_extract

    return app_extract.run(_asked(tree, read_lock(tree), settings), tree, True)


def _upstream_now(path: Path, cutlass: Path, layout: str) -> dict[str, Any]:
    g, c = git_info(path), git_info(cutlass)  # a local path as remote is a machine path: not shown, as in the lock
    return {"trtllm": {"layout": layout, "remote": public_remote(g.remote), "commit": g.commit, "dirty": g.dirty},
            "cutlass": {"remote": public_remote(c.remote), "commit": c.commit, "dirty": c.dirty}}


def diff(tree: Path, settings: Settings) -> dict[str, Any]:
    """The diff document: kernels always; files and licences when the new tree can be extracted."""
    tree = tree.absolute()
    old = read_lock(tree)
    target = registry.for_tree(settings.tree, settings.target)
    asked = _asked(tree, old, settings)
    ops, shape = asked.quant_ops, asked.shape
    new_rules = target.rules_record(asked.options())
    doc: dict[str, Any] = {
        "dir": str(tree), "new_tree": str(settings.tree.absolute()), "complete": True, "file_diff_error": None,
        "quant_ops": list(ops), "shape": {"kernels_only": shape.kernels_only, "per_tu": shape.per_tu,
                                           "max_kernels": shape.max_kernels},
        "tool": {"old": old.tool.get("version"), "new": __version__},
        "rules": {"old": old.rules, "new": new_rules, "changed": old.rules.get("sha256") != new_rules["sha256"]},
    }
    old_files = old.file_rows()
    try:
        b = build(asked)
        if b.link.unresolved:  # extract stops here too
            raise BadInput("the link closure found no in-tree source for: " + "; ".join(b.link.unresolved))
        inp = emit_input(b)
        new = lock_document(inp, plan_tree(inp))
    except VendorSlimError as exc:
        # the file level needs the whole pipeline; the kernel level only the generator and the runner
        try:
            rep = kernels(asked, load(asked))
        except VendorSlimError as exc2:
            raise exc2 from exc
        new_kernels = [{f: list(v) if isinstance(v := getattr(i, f), tuple) else v for f in KERNEL_KEY}
                       for i in rep.kept]
        src = rep.source
        doc.update(complete=False, file_diff_error={"message": exc.render(), "exit_code": exc.exit_code},
                   upstream={"old": old.upstream,
                             "new": _upstream_now(src.path, src.roots.cutlass, src.layout)})
        doc["kernels"] = {**diff_kernels(old.kernels, new_kernels),
                          "missing_for_runner": list(rep.missing)}
        doc["files"] = None
        doc["licenses"] = None
    else:
        doc["upstream"] = {"old": old.upstream, "new": new["upstream"]}
        doc["kernels"] = {**diff_kernels(old.kernels, new["kernels"]), "missing_for_runner": []}
        doc["files"] = diff_files(old_files, new["files"])
        doc["licenses"] = diff_licenses(old_files, new["files"])
    doc["upstream"]["changed"] = {name: upstream_changed(doc["upstream"]["old"].get(name),
                                                         doc["upstream"]["new"].get(name))
                                  for name in ("trtllm", "cutlass")}
    k, f, lic = doc["kernels"], doc["files"], doc["licenses"]
    doc["summary"] = {
        "kernels_added": len(k["added"]), "kernels_removed": len(k["removed"]), "kernels_changed": len(k["changed"]),
        "files_added": len(f["added"]) if f else None, "files_removed": len(f["removed"]) if f else None,
        "files_changed": len(f["changed"]) if f else None,
        "licenses_changed": len(lic["changed"]) if lic else None,
    }
    return doc
