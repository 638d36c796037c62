"""The tool's cache directory (generator output, parse results, analysis probes) and content hashing.

Every cached result is keyed by its arguments and the tool's version and stays valid while each file it
read still has the sha256 recorded with it. Hashing ~2,000 upstream files on every run would cost more
than the parse it saves, so `HashMemo` remembers each file's sha256 next to its inode, size, mtime and
ctime, as git's index does: a file whose stat is unchanged is not read again. The ctime cannot be set
back by a user (`touch -d` changes it), and a file changed within a second of being hashed is never
memoised (the racy case).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

MEMO_FORMAT = 1
_RACY_S = 2.0  # a file modified this recently may change again within the same timestamp: hash it each time


def cache_dir() -> Path:
    base = os.environ.get("VENDOR_SLIM_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "vendor-slim"
    )
    return Path(base)


class HashMemo:
    """sha256 of files, memoised by stat in `cache/hashes.json` (shared by the stages of one process)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._disk: dict[str, list[object]] = {}
        # answers given in this process, by stat: a file rewritten during the run is hashed again
        self._now: dict[str, tuple[list[int], str]] = {}
        self._dirty = False
        try:
            data = json.loads(path.read_text())
            if data.get("format") == MEMO_FORMAT:
                self._disk = data["files"]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            self._disk = {}

    def digest(self, p: str | os.PathLike[str]) -> str | None:
        """The file's sha256, or None where it cannot be read."""
        key = os.fspath(p)
        try:
            st = os.stat(key)
        except OSError:
            return None
        stamp = [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]
        seen = self._now.get(key)
        if seen is not None and seen[0] == stamp:
            return seen[1]
        hit = self._disk.get(key)
        if hit is not None and hit[:4] == stamp:
            digest = str(hit[4])
        else:
            try:
                with open(key, "rb") as fh:
                    digest = hashlib.sha256(fh.read()).hexdigest()
            except OSError:
                return None
            if time.time() - max(st.st_mtime, st.st_ctime) > _RACY_S:
                self._disk[key] = [*stamp, digest]
                self._dirty = True
        self._now[key] = (stamp, digest)
        return digest

    def valid(self, hashes: dict[str, str]) -> bool:
        """Whether every recorded file still has its recorded sha256."""
        return all(self.digest(f) == h for f, h in hashes.items())

    def flush(self) -> None:
        if not self._dirty:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".hashes-", suffix=".json")
            with os.fdopen(fd, "w") as fh:
                json.dump({"format": MEMO_FORMAT, "files": self._disk}, fh)
            os.replace(tmp, self.path)
            self._dirty = False
        except OSError:
            pass  # a memo that cannot be written only costs time


_MEMOS: dict[Path, HashMemo] = {}


def hash_memo(cache: Path | None = None) -> HashMemo:
    base = cache or cache_dir()
    memo = _MEMOS.get(base)
    if memo is None:
        memo = _MEMOS[base] = HashMemo(base / "hashes.json")
    return memo


def hash_files(paths: Iterable[Path], *extra: str, cache: Path | None = None) -> str:
    """sha256 over the names and contents of files (sorted), plus extra strings."""
    memo = hash_memo(cache)
    h = hashlib.sha256()
    for p in sorted(set(paths)):
        h.update(str(p).encode() + b"\0")
        digest = memo.digest(p) or hashlib.sha256(p.read_bytes()).hexdigest()  # unreadable: an error, not a miss
        h.update(digest.encode())
    for e in extra:
        h.update(e.encode() + b"\0")
    return h.hexdigest()


def code_version(*modules: str) -> str:
    """A digest of the tool's own modules: a fix to the analysis must not be hidden by old results."""
    import importlib

    h = hashlib.sha256()
    for name in modules:
        mod = importlib.import_module(name)
        h.update(name.encode() + b"\0" + Path(str(mod.__file__)).read_bytes())
    return h.hexdigest()[:16]


def load_entry(path: Path, memo: HashMemo) -> dict[str, object] | None:
    """A cached JSON entry whose recorded files all still hash the same, else None."""
    try:
        entry = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("hashes"), dict) or not memo.valid(entry["hashes"]):
        return None
    return entry


def store_entry(path: Path, entry: dict[str, object], memo: HashMemo) -> None:
    """Write a cache entry atomically (with its `hashes`), and the hash memo with it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        json.dump(entry, fh)
    os.replace(tmp, path)
    memo.flush()
