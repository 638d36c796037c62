"""Files: atomic writes (an interrupted run never leaves a half-written file), hashing, path normalisation."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import sys
import tempfile
from pathlib import Path

from vendor_slim.errors import BadInput


def atomic_write_text(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename it into place."""
    atomic_write_bytes(path, text.encode())


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename it into place."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise BadInput(f"cannot write {path}: {parent} is not a directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=parent)
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror}") from exc
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes it 0600; a written file gets the usual mode (0644)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def normalized(p: str | os.PathLike[str]) -> Path:
    """Absolute and normalised (`..` and `.` folded) without resolving links: how compilers name files."""
    return Path(os.path.normpath(os.path.abspath(p)))


def file_sha256(path: str | os.PathLike[str]) -> str | None:
    """The sha256 of a file's bytes, None where it cannot be read."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


class FileHasher:
    """file_sha256 with every answer memoised (one analysis asks for the same header many times)."""

    def __init__(self) -> None:
        self._memo: dict[Path, str | None] = {}

    def __call__(self, path: Path) -> str | None:
        if path not in self._memo:
            self._memo[path] = file_sha256(path)
        return self._memo[path]


_AT_FDCWD = -100


_RENAME_EXCHANGE = 2


def exchange_dirs(a: Path, b: Path) -> bool:
    """Swap two directories in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))
