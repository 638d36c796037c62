"""The targets this installation knows, by name; the CLI's `--target` picks one, or the tree's layout does."""

from __future__ import annotations

from pathlib import Path

from vendor_slim.errors import BadInput
from vendor_slim.targets.base import Target
from vendor_slim.targets.profile import matching_profiles
from vendor_slim.targets.trtllm_fpaintb.target import TARGET as TRTLLM_FPAINTB

# Registration order is the tie-break when several targets' layouts match a tree.
TARGETS: dict[str, Target] = {t.name: t for t in (TRTLLM_FPAINTB,)}
DEFAULT = TRTLLM_FPAINTB.name


def names() -> list[str]:
    return list(TARGETS)


def get(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        raise BadInput(f"unknown target {name!r} (known: {', '.join(TARGETS)})") from None


def for_tree(tree: Path, name: str | None = None) -> Target:
    """The target NAME, else the first whose layout profiles match TREE, else the default (whose
    detection then reports what it looked for)."""
    if name is not None:
        return get(name)
    for target in TARGETS.values():
        try:
            if tree.is_dir() and matching_profiles(tree, list(target.profiles())):
                return target
        except OSError:  # unreadable: the default target's detection says why
            break
    return TARGETS[DEFAULT]
