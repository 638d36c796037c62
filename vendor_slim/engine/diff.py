"""Diff: what re-extracting from another upstream tree would change, lock against lock (pure functions).

Both sides are vendor.lock.json documents (the new one planned in memory, never written): kernels
compare by their template arguments (not by the generated TU they landed in), files by their path in
the emitted tree and sha256, licences per file and as counts per licence per upstream.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from vendor_slim.engine.sbom import TOOL_PART, license_summary, summary_line
from vendor_slim.layout import UPSTREAM_DIRS, UPSTREAM_NAMES

KERNEL_KEY = ("function", "act", "weight", "quant_op", "cta", "cluster", "mainloop", "epilogue_schedule")


def kernel_key(k: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(tuple(v) if isinstance(v, list | tuple) else v for v in (k.get(f) for f in KERNEL_KEY))


def _kernel_doc(k: Mapping[str, Any]) -> dict[str, Any]:
    return {f: list(k[f]) if isinstance(k.get(f), list | tuple) else k.get(f) for f in KERNEL_KEY}


def _sort_key(key: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple(str(v) for v in key)


def diff_kernels(old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Added and removed by the whole key; `changed` pairs one removed with one added kernel of the same
    tile (function, types, quant op, CTA, cluster) whose schedules differ (both stay in added/removed)."""
    a = {kernel_key(k): k for k in old}
    b = {kernel_key(k): k for k in new}
    added = [_kernel_doc(b[k]) for k in sorted(b.keys() - a.keys(), key=_sort_key)]
    removed = [_kernel_doc(a[k]) for k in sorted(a.keys() - b.keys(), key=_sort_key)]
    n_tile = KERNEL_KEY.index("cluster") + 1
    by_tile: dict[tuple[Any, ...], tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
    for side, items in ((0, removed), (1, added)):
        for k in items:
            by_tile.setdefault(kernel_key(k)[:n_tile], ([], []))[side].append(k)
    changed = [{"old": r[0], "new": n[0], "differs": [f for f in KERNEL_KEY[n_tile:] if r[0][f] != n[0][f]]}
               for tile, (r, n) in sorted(by_tile.items(), key=lambda kv: _sort_key(kv[0]))
               if len(r) == 1 and len(n) == 1]
    return {"added": added, "removed": removed, "changed": changed, "unchanged": len(a.keys() & b.keys())}


def _file_doc(f: Mapping[str, Any]) -> dict[str, Any]:
    return {"path": f["path"], "sha256": f["sha256"], "size": f.get("size"), "role": f.get("role"),
            "origin": f.get("origin"), "license": f.get("license")}


def diff_files(old: Iterable[Mapping[str, Any]], new: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    a = {f["path"]: f for f in old}
    b = {f["path"]: f for f in new}
    changed = []
    same = 0
    for p in sorted(a.keys() & b.keys()):
        if a[p]["sha256"] == b[p]["sha256"]:
            same += 1
            continue
        changed.append({"path": p, "role": b[p].get("role"), "old_sha256": a[p]["sha256"],
                        "new_sha256": b[p]["sha256"], "old_size": a[p].get("size"), "new_size": b[p].get("size")})
    return {"added": [_file_doc(b[p]) for p in sorted(b.keys() - a.keys())],
            "removed": [_file_doc(a[p]) for p in sorted(a.keys() - b.keys())],
            "changed": changed, "unchanged": same}


def part_of(path: str, origin: str | None) -> str | None:
    """The upstream a lock entry was copied from (None: written by vendor-slim)."""
    if origin is None:
        return None
    for name, d in UPSTREAM_DIRS.items():
        if path.startswith(f"{d}/"):
            return name
    return None


def lock_license_summary(files: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    return license_summary((part_of(f["path"], f.get("origin")), str(f.get("license"))) for f in files)


def diff_licenses(old: Sequence[Mapping[str, Any]], new: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Files kept under another licence, licences that appear or disappear, and the counts on both sides."""
    a = {f["path"]: f for f in old}
    b = {f["path"]: f for f in new}
    changed = [{"path": p, "old": a[p].get("license"), "new": b[p].get("license")}
               for p in sorted(a.keys() & b.keys()) if a[p].get("license") != b[p].get("license")]
    sa, sb = lock_license_summary(old), lock_license_summary(new)
    la = {lic for c in sa.values() for lic in c}
    lb = {lic for c in sb.values() for lic in c}
    counts = [{"part": part, "old": sa.get(part, {}), "new": sb.get(part, {})}
              for part in sorted(sa.keys() | sb.keys()) if sa.get(part, {}) != sb.get(part, {})]
    return {"changed": changed, "added": sorted(lb - la), "removed": sorted(la - lb),
            "summary": {"old": sa, "new": sb}, "counts_changed": counts}


# ---------------------------------------------------------------------------------------------
# Text


def _short(commit: str | None) -> str:
    return commit[:12] if commit else "unknown"


def _upstream(u: Mapping[str, Any] | None) -> str:
    if not u:
        return "unknown"
    where = u.get("remote") or "(no remote)"
    dirty = " (dirty)" if u.get("dirty") else ""
    layout = f"{u['layout']} " if u.get("layout") else ""
    return f"{layout}{where}@{_short(u.get('commit'))}{dirty}"


def _tail(s: Any) -> str:
    return str(s or "").rsplit("::", 1)[-1]


def remote_identity(remote: str | None) -> str | None:
    """A remote's host and path, whatever its spelling: https://github.com/NVIDIA/cutlass.git,
    git@github.com:NVIDIA/cutlass and ssh://git@github.com/NVIDIA/cutlass/ are one repository."""
    if not remote:
        return None
    r = remote.strip()
    m = re.match(r"^[a-z+]+://(?:[^@/]+@)?([^/:]+)(?::\d+)?/(.*)$", r, re.I) or re.match(r"^[^@]+@([^:]+):(.*)$", r)
    host, path = (m.group(1), m.group(2)) if m else ("", r)
    path = path.strip("/")
    path = path[:-4] if path.endswith(".git") else path
    return f"{host.lower()}/{path.lower()}"


def upstream_changed(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> bool:
    """Another commit, another dirtiness or another repository; not another spelling of the same remote
    (nor a remote recorded on one side only: a local checkout records none)."""
    if not old or not new:
        return bool(old) != bool(new)
    if old.get("commit") != new.get("commit") or bool(old.get("dirty")) != bool(new.get("dirty")):
        return True
    a, b = remote_identity(old.get("remote")), remote_identity(new.get("remote"))
    return a is not None and b is not None and a != b


def _kernel_line(k: Mapping[str, Any]) -> str:
    tail = _tail
    parts = [tail(k.get("quant_op")), f"{k.get('act')} x {k.get('weight')}"]
    for label, field in (("CTA", "cta"), ("cluster", "cluster")):
        if k.get(field):
            parts.append(f"{label} {'x'.join(map(str, k[field]))}")
    schedule = " / ".join(tail(k.get(f)) for f in ("mainloop", "epilogue_schedule") if k.get(f))
    if schedule:
        parts.append(schedule)
    return " ".join(p for p in parts if p)


def format_diff(doc: Mapping[str, Any], dir_name: str | None = None, new_name: str | None = None) -> str:
    """The diff as text; DIR_NAME and NEW_NAME: the paths as the user gave them (no machine paths)."""
    lines = [f"vendor-slim diff: {dir_name or doc['dir']} (its lock) -> {new_name or doc['new_tree']}"]
    for name in ("trtllm", "cutlass"):
        old = doc["upstream"]["old"].get(name)
        new = doc["upstream"]["new"].get(name)
        if not (doc["upstream"].get("changed") or {}).get(name, True):
            lines.append(f"  {UPSTREAM_NAMES[name]}: unchanged ({_upstream(old)})")
        else:
            lines.append(f"  {UPSTREAM_NAMES[name]}: {_upstream(old)} -> {_upstream(new)}")
    r = doc["rules"]
    rules = (f"rules changed ({r['old'].get('sha256', '')[:12]} -> {r['new']['sha256'][:12]})" if r["changed"]
             else f"rules unchanged ({r['new']['sha256'][:12]})")
    shape = doc["shape"]
    extra = (", kernels only" if shape["kernels_only"] else "") + (f", {shape['per_tu']} per TU" if shape["per_tu"]
                                                                  else "")
    lines.append(f"  quant ops: {', '.join(doc['quant_ops'])}{extra}; {rules}")
    if doc["tool"]["old"] != doc["tool"]["new"]:
        lines.append(f"  the tree was extracted by vendor-slim {doc['tool']['old']}; this is {doc['tool']['new']} "
                     "(tool changes show up as file changes too)")
    k = doc["kernels"]
    pairs = k.get("changed", [])
    same_tile = (f" ({len(pairs)} of each the same tile with another schedule)" if pairs else "")
    lines.append(f"kernels: {len(k['added'])} added, {len(k['removed'])} removed{same_tile}, {k['unchanged']} "
                 "unchanged")
    paired_old = [kernel_key(p["old"]) for p in pairs]
    paired_new = [kernel_key(p["new"]) for p in pairs]
    for p in pairs:
        what = "; ".join(f"{f} {_tail(p['old'][f])} -> {_tail(p['new'][f])}" for f in p["differs"])
        lines.append(f"  ~ {_kernel_line({**p['old'], 'mainloop': '', 'epilogue_schedule': ''})}: {what}")
    lines += [f"  + {_kernel_line(x)}" for x in k["added"] if kernel_key(x) not in paired_new]
    lines += [f"  - {_kernel_line(x)}" for x in k["removed"] if kernel_key(x) not in paired_old]
    for m in k.get("missing_for_runner", []):
        lines.append(f"  ! the new runner references a launcher nobody generates: {m}")
    f = doc["files"]
    if f is None:
        err = doc["file_diff_error"]
        lines.append("files: not compared: the new tree cannot be extracted (extract would exit "
                     f"{err['exit_code']}):")
        lines += [f"  {line}" for line in err["message"].splitlines()]
    else:
        lines.append(f"files: {len(f['added'])} added, {len(f['removed'])} removed, {len(f['changed'])} changed, "
                     f"{f['unchanged']} unchanged")
        lines += [f"  + {x['path']} ({x['role']}, {x['license']})" for x in f["added"]]
        lines += [f"  - {x['path']} ({x['role']}, {x['license']})" for x in f["removed"]]
        lines += [f"  ~ {x['path']} ({x['role']})" for x in f["changed"]]
    lic = doc["licenses"]
    if lic is not None:
        n = len(lic["changed"])
        lines.append(f"licences: {n} file(s) changed licence"
                     + (f"; new: {', '.join(lic['added'])}" if lic["added"] else "")
                     + (f"; gone: {', '.join(lic['removed'])}" if lic["removed"] else ""))
        lines += [f"  ~ {x['path']}: {x['old']} -> {x['new']}" for x in lic["changed"]]
        for c in lic["counts_changed"]:
            name = UPSTREAM_NAMES.get(c["part"], "written by vendor-slim" if c["part"] == TOOL_PART else c["part"])
            old_s = summary_line(c["old"]) if c["old"] else "none"
            new_s = summary_line(c["new"]) if c["new"] else "none"
            lines.append(f"  {name}: {old_s} -> {new_s}")
    return "\n".join(lines) + "\n"
