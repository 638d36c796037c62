"""The libclang adapter: the only package that imports clang.cindex.

It is loaded lazily so that commands which need no parsing work (and say how to fix it) when the
wrong wheel is installed.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata
from types import ModuleType

from vendor_slim.errors import BadInput

_FIX = "pip uninstall -y libclang && pip install 'libclang-ng>=22.1'"


def cindex() -> ModuleType:
    """clang.cindex from the libclang-ng wheel, configured to use libstdc++ and its own resource dir."""
    try:
        import clang.cindex as ci
    except ImportError as exc:
        raise BadInput(f"libclang is not available ({exc}); fix: {_FIX}") from exc
    cfg = ci.Config
    if not hasattr(cfg, "libcxx_dir") or not hasattr(cfg, "resource_dir"):
        raise BadInput(f"the installed clang bindings are not libclang-ng (no bundled resource headers); fix: {_FIX}")
    # The wheel would add its own libc++ headers; nvcc uses the system libstdc++, so must we.
    cfg.libcxx_dir = None
    try:
        ci.Index.create()
    except Exception as exc:  # a missing or incompatible libclang.so surfaces here
        raise BadInput(f"libclang could not be loaded ({exc}); fix: {_FIX}") from exc
    return ci  # type: ignore[no-any-return]


@cache
def libclang_version() -> str:
    """The installed bindings' distribution and version (part of every parse result's cache key)."""
    for dist in ("libclang-ng", "libclang"):
        try:
            return f"{dist}=={metadata.version(dist)}"
        except metadata.PackageNotFoundError:
            continue
    return "unknown"
