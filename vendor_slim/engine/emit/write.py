"""Writing the tree: refuse a dangerous --out, write beside it, swap it into place, clean up after a kill."""

from __future__ import annotations

import glob
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from vendor_slim.adapters.fs import exchange_dirs
from vendor_slim.adapters.progress import stage
from vendor_slim.engine.emit.tree import OutFile, reason
from vendor_slim.errors import BadInput
from vendor_slim.layout import (
    GIT_DIR,
    LOCK_NAME,
    ignored_dir,
    kept_by_user,
)

TMP_PREFIX = ".vendor-slim-tmp-"


OLD_PREFIX = ".vendor-slim-old-"


def check_out(out: Path, forbidden: Sequence[Path]) -> None:
    """Refuse an --out that would damage something: a file, a link, the source tree or inside it."""
    if out.is_symlink():
        raise BadInput(f"--out {out} is a symbolic link; give the real directory")
    if out.exists() and not out.is_dir():
        raise BadInput(f"--out {out} exists and is not a directory")
    real = Path(os.path.realpath(out))
    for f in forbidden:
        fr = Path(os.path.realpath(f))
        if real == fr or fr in real.parents:
            raise BadInput(f"--out {out} is inside the source tree {f}; choose a directory outside it")
        if real in fr.parents:
            raise BadInput(f"--out {out} contains the source tree {f}; choose another directory")
    if out.is_dir():
        try:
            empty = not any(out.iterdir())
        except OSError as exc:
            raise BadInput(f"--out {out} cannot be read: {reason(exc)}") from exc
        if not empty and not is_emitted_tree(out):
            # --force replaces an earlier tree, never a folder of the user's own files
            raise BadInput(f"--out {out} is a non-empty directory that vendor-slim did not write (no valid "
                           f"{LOCK_NAME}); choose a new or empty directory")


def is_emitted_tree(d: Path) -> bool:
    """Whether D holds a lock written by vendor-slim (so --force may replace it)."""
    try:
        lock = json.loads((d / LOCK_NAME).read_text())
        return bool(lock["tool"]["name"] == "vendor-slim")
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _same_tree(out: Path, files: Sequence[OutFile], lock: str) -> bool:
    try:
        if (out / LOCK_NAME).read_text() != lock:
            return False
    except OSError:
        return False
    try:
        present = {p.relative_to(out).as_posix() for p in out.rglob("*")
                   if (p.is_file() or p.is_symlink()) and not kept_by_user(p.relative_to(out).as_posix(), False)}
        if present != {f.path for f in files} | {LOCK_NAME}:
            return False
        return all((out / f.path).read_bytes() == f.data for f in files)
    except OSError:
        return False


@contextmanager
def _temp_dir(parent: Path, name: str) -> Iterator[Path]:
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{name}-", dir=parent))
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)  # mkdtemp makes it 0700; the tree's folder gets the usual mode
    except OSError as exc:
        raise BadInput(f"--out {parent / name}: cannot write into {parent}: {reason(exc)}") from exc
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def clean_stale(parent: Path, name: str) -> None:
    """Remove what an interrupted earlier run left beside DIR (its temporary and old trees).

    A run killed between the two renames of a replace (where the atomic exchange is unavailable)
    leaves DIR absent and the previous tree in an old folder: that tree is put back first."""
    out = parent / name
    olds = sorted(parent.glob(f"{glob.escape(OLD_PREFIX + name)}-*"))
    if not os.path.lexists(out):
        for old in olds:
            prev = old / name
            if prev.is_dir() and not prev.is_symlink():
                os.replace(prev, out)
                break
    for prefix in (TMP_PREFIX, OLD_PREFIX):
        for p in parent.glob(f"{glob.escape(prefix + name)}-*"):
            if p.is_dir() and not p.is_symlink():
                for prev in (p, p / name):  # a killed run may not have moved the repository back yet
                    _carry_git(prev, out)
                shutil.rmtree(p, ignore_errors=True)


def _carry_git(src: Path, dest: Path) -> None:
    """Move what is the user's, not the tree's, from the previous tree into its replacement: a published
    tree's repository (.git) and the build folders the emitted .gitignore names."""
    if not (src.is_dir() and dest.is_dir()):
        return
    builds = sorted(p.name for p in src.iterdir() if p.is_dir() and not p.is_symlink() and ignored_dir(p.name))
    for name in (GIT_DIR, *builds):
        if (src / name).is_dir() and not os.path.lexists(dest / name):
            os.replace(src / name, dest / name)


def write_tree(out: Path, files: Sequence[OutFile], lock: str, *, force: bool,
               check: Callable[[Path], object] | None = None) -> str:
    """Write the tree into a temporary folder beside OUT and rename it into place.

    Returns 'created', 'replaced' or 'unchanged'."""
    out = out.absolute()
    parent = out.parent
    if not parent.is_dir():
        try:
            parent.mkdir(parents=True)
        except OSError as exc:
            raise BadInput(f"--out {out}: cannot create {parent}: {reason(exc)}") from exc
    clean_stale(parent, out.name)
    existing = out.is_dir()
    if existing and _same_tree(out, files, lock):
        return "unchanged"
    if existing and any(out.iterdir()) and not is_emitted_tree(out):
        raise BadInput(f"--out {out} is a non-empty directory that vendor-slim did not write (no valid "
                       f"{LOCK_NAME}); choose a new or empty directory")
    if existing and any(out.iterdir()) and not force:
        raise BadInput(f"--out {out} exists and differs from what this run would write; "
                       "pass --force to replace it")
    if not os.access(parent, os.W_OK):
        raise BadInput(f"--out {out}: cannot write into {parent}: permission denied")
    with _temp_dir(parent, out.name) as tmp, stage("writing the tree", total=len(files) + 1) as st:
        try:
            for f in files:
                p = tmp / f.path
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(f.data)
                st.advance()
            st.advance()
            (tmp / LOCK_NAME).write_text(lock)
            if check is not None:
                check(tmp)  # raises to stop: OUT is left untouched, _temp_dir removes tmp
            if existing:
                # one atomic swap where the kernel has it: OUT always holds a whole tree
                if exchange_dirs(tmp, out):
                    _carry_git(tmp, out)  # killed before this: the next run's clean_stale carries it
                    return "replaced"  # tmp now holds the previous tree; _temp_dir removes it
                old = Path(tempfile.mkdtemp(prefix=f"{OLD_PREFIX}{out.name}-", dir=parent))
                os.replace(out, old / out.name)
                os.replace(tmp, out)  # killed before this: the next run's clean_stale puts the old tree back
                _carry_git(old / out.name, out)
                shutil.rmtree(old, ignore_errors=True)
                return "replaced"
            os.replace(tmp, out)
            return "created"
        except OSError as exc:
            raise BadInput(f"--out {out}: cannot write the tree into {parent}: {reason(exc)}") from exc
