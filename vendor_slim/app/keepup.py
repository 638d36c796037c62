"""Application layer for keeping a published tree current (issue 7): `publish` and `diff`.

`publish` checks the tree against its lock (as `verify --no-build` does) and commits it. `diff` plans
the tree another upstream would give, in memory, with the same pipeline `extract` runs (nothing is
written to DIR), and compares the two locks.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

from vendor_slim import __version__
from vendor_slim.adapters.gitinfo import git_info
from vendor_slim.app.pipeline import Shape, build_target, emit_input, kernels_report
from vendor_slim.engine.diff import KERNEL_KEY, diff_files, diff_kernels, diff_licenses
from vendor_slim.engine.emit.plan import plan_tree, render_lock
from vendor_slim.engine.publish import PublishResult
from vendor_slim.engine.publish import publish as publish_tree
from vendor_slim.engine.verify import check_lock, read_lock
from vendor_slim.errors import BadInput, VendorSlimError
from vendor_slim.targets.trtllm_fpaintb.rulefile import RULES_DIR, Rules, load_rules


def lock_problems(tree: Path, lock: dict[str, Any]) -> list[str]:
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


def _lock_rules(lock: dict[str, Any]) -> Path | None:
    """The rules file the lock names, when it is one of this installation's (rules/...)."""
    rel = str((lock.get("rules") or {}).get("path") or "")
    if rel.startswith("rules/"):
        p = RULES_DIR.parent / rel
        if p.is_file():
            return p
    return None


def _shape(lock: dict[str, Any], default_per_tu: int) -> Shape:
    """The extraction shape the lock shows: no runner/API TUs is --kernels-only; a grouping of the kernels
    into TUs that the rules' instantiations per TU would not give is --per-tu (the largest TU's count).
    --max-kernels is not recorded."""
    roles = {t.get("role") for t in lock.get("tus") or []}
    kernels_only = bool(roles) and not roles & {"runner", "api"}
    per = Counter(k.get("tu") for k in lock.get("kernels") or [])
    n = sum(per.values())
    per_tu = None
    if n and math.ceil(n / max(default_per_tu, 1)) != len(per):  # extract groups n kernels into even TUs
        per_tu = max(per.values())
    return Shape(kernels_only=kernels_only, per_tu=per_tu)


def _rules_doc(rules: Rules) -> dict[str, Any]:
    rel = (f"rules/{rules.path.relative_to(RULES_DIR).as_posix()}" if RULES_DIR in rules.path.parents
           else rules.path.name)
    return {"path": rel, "sha256": rules.sha256}


def _upstream_now(path: Path, cutlass: Path, layout: str) -> dict[str, Any]:
    g, c = git_info(path), git_info(cutlass)
    return {"trtllm": {"layout": layout, "remote": g.remote, "commit": g.commit, "dirty": g.dirty},
            "cutlass": {"remote": c.remote, "commit": c.commit, "dirty": c.dirty}}


def diff(tree: Path, trtllm: Path, cutlass: Path | None, rules: Path | None, jobs: int) -> dict[str, Any]:
    """The diff document: kernels always; files and licences when the new tree can be extracted."""
    tree = tree.absolute()
    old = read_lock(tree)
    ops = tuple(str(q) for q in old.get("quant_ops") or ())
    rules_path = rules or _lock_rules(old)
    loaded = load_rules(rules_path)
    shape = _shape(old, loaded.target.instantiations_per_tu)
    new_rules = _rules_doc(loaded)
    doc: dict[str, Any] = {
        "dir": str(tree), "new_tree": str(trtllm.absolute()), "complete": True, "file_diff_error": None,
        "quant_ops": list(ops), "shape": {"kernels_only": shape.kernels_only, "per_tu": shape.per_tu},
        "tool": {"old": (old.get("tool") or {}).get("version"), "new": __version__},
        "rules": {"old": old.get("rules") or {}, "new": new_rules,
                  "changed": (old.get("rules") or {}).get("sha256") != new_rules["sha256"]},
    }
    old_files = old["files"]
    try:
        t = build_target(trtllm, cutlass, rules_path, ops, jobs, shape)
        if t.link.unresolved:  # extract stops here too
            raise BadInput("the link closure found no in-tree source for: " + "; ".join(t.link.unresolved))
        inp = emit_input(t)
        new = json.loads(render_lock(inp, plan_tree(inp)))
    except VendorSlimError as exc:
        # the file level needs the whole pipeline; the kernel level only the generator and the runner
        try:
            rep, _ = kernels_report(trtllm, cutlass, rules_path, ops)
        except VendorSlimError as exc2:
            raise exc2 from exc
        insts = [inst for i, inst in enumerate(rep.instantiations) if i in rep.selected and i in rep.needed]
        new_kernels = [{f: list(v) if isinstance(v := getattr(i, f), tuple) else v for f in KERNEL_KEY}
                       for i in insts]
        doc.update(complete=False, file_diff_error={"message": exc.render(), "exit_code": exc.exit_code},
                   upstream={"old": old.get("upstream") or {},
                             "new": _upstream_now(rep.source.path, rep.source.roots.cutlass, rep.source.layout)})
        doc["kernels"] = {**diff_kernels(old.get("kernels") or [], new_kernels),
                          "missing_for_runner": list(rep.missing_for_runner)}
        doc["files"] = None
        doc["licenses"] = None
    else:
        doc["upstream"] = {"old": old.get("upstream") or {}, "new": new["upstream"]}
        doc["kernels"] = {**diff_kernels(old.get("kernels") or [], new["kernels"]), "missing_for_runner": []}
        doc["files"] = diff_files(old_files, new["files"])
        doc["licenses"] = diff_licenses(old_files, new["files"])
    k, f, lic = doc["kernels"], doc["files"], doc["licenses"]
    doc["summary"] = {
        "kernels_added": len(k["added"]), "kernels_removed": len(k["removed"]), "kernels_changed": len(k["changed"]),
        "files_added": len(f["added"]) if f else None, "files_removed": len(f["removed"]) if f else None,
        "files_changed": len(f["changed"]) if f else None,
        "licenses_changed": len(lic["changed"]) if lic else None,
    }
    return doc
