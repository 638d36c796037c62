"""Layout detection: which profile under rules/profiles/ describes the given tree."""

from __future__ import annotations

import os
from pathlib import Path

from vendor_slim.errors import BadInput
from vendor_slim.models import Roots, SourceTree
from vendor_slim.targets.trtllm_fpaintb.rulefile import Profile


def _check_dir(path: Path, flag: str) -> Path:
    try:
        return _check_dir_unguarded(path, flag)
    except PermissionError as exc:  # a parent directory that cannot be searched
        raise BadInput(f"{flag} {path}: permission denied ({exc.strerror})") from exc


def _check_dir_unguarded(path: Path, flag: str) -> Path:
    if not path.exists() and not path.is_symlink():
        raise BadInput(f"{flag} {path}: no such file or directory")
    if path.is_symlink() and not path.exists():
        raise BadInput(f"{flag} {path}: dangling symbolic link")
    if not path.is_dir():
        raise BadInput(f"{flag} {path}: not a directory (expected a TensorRT-LLM checkout or FlashInfer package)")
    if not os.access(path, os.R_OK | os.X_OK):
        raise BadInput(f"{flag} {path}: permission denied (cannot list the directory)")
    return path.resolve()


def _generator_matches(prof: Profile, tree: Path) -> bool:
    if not prof.generator_markers and not prof.generator_absent:
        return True
    try:
        text = (tree / prof.generator).read_text(errors="replace")
    except OSError:
        return False
    if prof.generator_markers and not any(m in text for m in prof.generator_markers):
        return False
    return not any(m in text for m in prof.generator_absent)


def detect(path: Path, profiles: list[Profile], *, cutlass: Path | None = None) -> tuple[SourceTree, Profile]:
    """Find the profile whose markers all exist; checks that CUTLASS is populated."""
    tree = _check_dir(path, "--trtllm")
    matches = [
        p for p in profiles if all((tree / m).exists() for m in p.markers) and _generator_matches(p, tree)
    ]
    if not matches:
        looked = "\n".join(f"  {p.name}: {', '.join(p.markers)}" for p in profiles)
        raise BadInput(f"{tree} is not a recognised tree; looked for these marker files:\n{looked}")
    prof = max(matches, key=lambda p: p.priority)
    cut = _check_dir(cutlass, "--cutlass") if cutlass is not None else tree / prof.cutlass
    if not all((cut / m).is_file() for m in prof.cutlass_markers):
        if cutlass is None and cut.is_dir() and not any(cut.iterdir()) and prof.submodule_fix:
            fix = prof.submodule_fix.format(tree=tree)
            raise BadInput(f"CUTLASS submodule {cut} is empty; populate it with:\n  {fix}")
        wanted = ", ".join(prof.cutlass_markers)
        raise BadInput(f"CUTLASS at {cut} is missing or incomplete (looked for {wanted}); pass --cutlass PATH")
    code_root = tree / prof.code_root
    include_dirs = tuple(tree / d for d in prof.include_dirs) + tuple(cut / d for d in prof.cutlass_include_dirs)
    src = SourceTree(
        path=tree,
        layout=prof.name,
        roots=Roots(trtllm=code_root, cutlass=cut),
        code_root=code_root,
        include_dirs=include_dirs,
        generator=tree / prof.generator,
        generator_style="package" if prof.generator_style == "package" else "script",
        generator_args=prof.generator_args,
        generator_output_glob=prof.generator_output_glob,
        cutlass_python=cut / prof.cutlass_python,
    )
    return src, prof
