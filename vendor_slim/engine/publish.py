"""Publish: commit an emitted tree (already checked against its lock) to a git repository.

One commit per publish, holding exactly the tree's files, with provenance trailers read from the lock.
The repository is DIR itself or a separate one whose work tree is replaced by the tree (its `.git`
kept). Nothing is touched before every refusal has been decided; a failure after that puts the
repository back as it was.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from vendor_slim.adapters import gitrepo
from vendor_slim.errors import BadInput
from vendor_slim.layout import IGNORED_DIRS, LOCK_NAME, UPSTREAM_NAMES, tree_counts
from vendor_slim.models import Lock

_TRAILER_LINE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*: \S")
_GIT_MODES = ("100644", "100755")


@dataclass(frozen=True)
class PublishResult:
    repo: str
    state: str  # published | unchanged
    commit: str
    files: int  # files in the commit (the lock included)
    tag: str | None
    created: bool  # the repository was initialised by this publish


def _short(commit: str | None) -> str:
    return commit[:12] if commit else "unknown"


def trailers(lock: Lock) -> list[tuple[str, str]]:
    """The provenance trailers, all read from the lock."""
    up = lock.upstream
    trt = up.get("trtllm") or {}
    cut = up.get("cutlass") or {}
    out = [
        ("Vendored-From", f"{trt.get('remote') or '(no remote)'}@{trt.get('commit') or 'unknown'}"),
        ("CUTLASS", str(cut.get("commit") or "unknown")),
        ("vendor-slim", str(lock.tool.get("version") or "unknown")),
        ("Rules-SHA256", str(lock.rules.get("sha256") or "unknown")),
    ]
    dirty = [UPSTREAM_NAMES[n] for n in ("trtllm", "cutlass") if (up.get(n) or {}).get("dirty")]
    if dirty:
        out.append(("Upstream-Dirty", ", ".join(dirty)))
    return out


def title(lock: Lock) -> str:
    up = lock.upstream
    trt = up.get("trtllm") or {}
    cut = up.get("cutlass") or {}
    return (f"{lock.library or 'tree'}: vendor TensorRT-LLM {_short(trt.get('commit'))}, "
            f"CUTLASS {_short(cut.get('commit'))}")


def message(lock: Lock, text: str | None) -> str:
    """TEXT (or a title and a summary from the lock) followed by the trailers."""
    block = "\n".join(f"{k}: {v}" for k, v in trailers(lock))
    if text is not None and text.strip():
        body = text.strip()
        last = body.rsplit("\n\n", 1)[-1]
        if "\n\n" in body and all(_TRAILER_LINE.match(line) for line in last.splitlines()):
            return f"{body}\n{block}\n"  # the user's own trailers: one trailer block, theirs first
        return f"{body}\n\n{block}\n"
    counts = tree_counts((f.path, bool(f.origin), f.role) for f in lock.files)
    ops = ", ".join(lock.quant_ops) or "none"
    rules = lock.rules.get("path") or "unknown rules"
    summary = (f"Quant ops {ops}; {len(lock.kernels)} kernels; {counts.line()}. Extracted by vendor-slim "
               f"{lock.tool.get('version')} with {rules}.")
    return f"{title(lock)}\n\n{summary}\n\n{block}\n"


def _inside(a: Path, b: Path) -> bool:
    """Whether A is B or lies inside it (real paths)."""
    ra, rb = Path(os.path.realpath(a)), Path(os.path.realpath(b))
    return ra == rb or rb in ra.parents


def _listed(lock: Lock) -> list[str]:
    return sorted({*(f.path for f in lock.files), LOCK_NAME})


def _refuse_dirty(repo: Path, lines: list[str], what: str) -> None:
    shown = "\n  ".join(lines[:10]) + (f"\n  ... and {len(lines) - 10} more" if len(lines) > 10 else "")
    raise BadInput(f"the repository {repo} has {what}; publish would replace them. Commit, stash or remove them "
                   f"first:\n  {shown}")


def publish(tree: Path, lock: Lock, repo_path: Path | None, *, tag: str | None,
            text: str | None) -> PublishResult:
    """Commit TREE (whose lock check passed) to the repository at REPO_PATH (default TREE itself)."""
    tree = tree.absolute()
    target = (repo_path or tree).absolute()
    in_place = os.path.realpath(target) == os.path.realpath(tree)
    if not in_place:
        if _inside(target, tree):
            raise BadInput(f"--repo {target} is inside the tree {tree}; give a directory outside it (or omit "
                           "--repo to publish the tree in place)")
        if _inside(tree, target):
            raise BadInput(f"--repo {target} contains the tree {tree}; publishing replaces the repository's "
                           "files, the tree among them: give a directory beside it")
        if target.exists() and not target.is_dir():
            raise BadInput(f"--repo {target} exists and is not a directory")
    if tag is not None and not gitrepo.valid_tag_name(tag):
        raise BadInput(f"--tag {tag!r} is not a valid git tag name")
    repo = gitrepo.open_repo(target) if target.is_dir() else None
    if repo is None and not in_place and target.is_dir() and any(target.iterdir()):
        raise BadInput(f"--repo {target} is neither a git repository (at its top level) nor empty; give a "
                       "repository, an empty directory or a new path")
    if repo is not None:
        if tag is not None and gitrepo.tag_exists(repo, tag):
            raise BadInput(f"the tag {tag} already exists in {target}; choose another tag")
        if gitrepo.has_head(repo) and gitrepo.head_is_detached(repo):
            raise BadInput(f"the repository {target} has a detached HEAD; check out a branch to publish onto")
        if in_place:
            # the work tree is the tree (the lock check saw every file); only staged changes are the user's
            staged = gitrepo.staged_changes(repo)
            if staged:
                _refuse_dirty(target, staged, "staged changes")
        else:
            dirty = gitrepo.status(repo, ignored=True)
            if dirty:
                _refuse_dirty(target, dirty, "uncommitted changes (changed, untracked or ignored files)")

    made_dir = not target.exists()
    if made_dir:
        try:
            target.mkdir(parents=True)
        except OSError as exc:
            raise BadInput(f"--repo {target}: cannot create it: {(exc.strerror or str(exc)).lower()}") from exc
    created = repo is None
    if repo is None:
        repo = gitrepo.init_repo(target)
    listed = _listed(lock)
    try:
        if not in_place:
            gitrepo.clear_work_tree(target)
            for rel in listed:
                dest = target / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(tree / rel, dest)
        gitrepo.stage_everything(repo, IGNORED_DIRS)  # the tree's build folders are the user's, as in .gitignore
        _check_staged(repo, tree, listed)
        new_tree = gitrepo.index_tree(repo)
        msg = message(lock, text)
        if new_tree == gitrepo.head_tree(repo):
            sha = gitrepo.head(repo)
            if tag is not None:
                gitrepo.tag(repo, tag, msg, sha)
            return PublishResult(str(target), "unchanged", sha, len(listed), tag, created)
        sha = gitrepo.commit(repo, msg)
        if tag is not None:
            gitrepo.tag(repo, tag, msg, sha)
        return PublishResult(str(target), "published", sha, len(listed), tag, created)
    except BaseException:
        if created and made_dir:
            shutil.rmtree(target, ignore_errors=True)
        elif created:
            shutil.rmtree(target / ".git", ignore_errors=True)
            if not in_place:
                gitrepo.clear_work_tree(target)
        else:
            gitrepo.restore(repo, work_tree=not in_place)
        raise


def _check_staged(repo: gitrepo.Repo, tree: Path, listed: list[str]) -> None:
    """The index must hold exactly the tree's files, byte for byte (no filter or line-ending rewrite)."""
    entries = gitrepo.index_entries(repo)
    fmt = gitrepo.object_format(repo)
    extra = sorted(set(entries) - set(listed))
    missing = sorted(set(listed) - set(entries))
    altered = [rel for rel in listed if rel in entries and (
        entries[rel][0] not in _GIT_MODES or entries[rel][1] != gitrepo.blob_id((tree / rel).read_bytes(), fmt))]
    if extra or missing or altered:
        parts = [f"{what}: {', '.join(items[:5])}" for what, items in
                 (("not in the tree", extra), ("not staged", missing), ("staged with other bytes", altered)) if items]
        raise BadInput(f"the repository {repo.path} would not hold exactly the tree ({'; '.join(parts)}); a git "
                       "attribute or filter (.git/info/attributes, a clean filter) may rewrite files")
