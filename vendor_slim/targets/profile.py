"""Layout profiles (TOML: how to recognise a tree and where things are in it) and their detection."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vendor_slim.adapters.tomlschema import build, invalid, read_toml
from vendor_slim.errors import BadInput
from vendor_slim.models import Roots, SourceTree


@dataclass(frozen=True)
class Profile:
    """One upstream layout: how to recognise it and where things are in it."""

    path: Path
    name: str
    description: str
    markers: tuple[str, ...]
    """Relative paths that must all exist for the layout to match."""
    code_root: str
    """Root of TensorRT-LLM files; rules' paths are relative to it."""
    include_dirs: tuple[str, ...]
    """In-tree include directories, relative to the tree."""
    cutlass: str
    """CUTLASS checkout, relative to the tree."""
    cutlass_include_dirs: tuple[str, ...]
    """Relative to CUTLASS."""
    cutlass_markers: tuple[str, ...]
    """Relative to CUTLASS: files that prove the checkout is populated."""
    generator: str
    """The kernel generator, relative to the tree."""
    generator_style: str
    """'script' (run with -o DIR) or 'package' (import generate_gemm_operations from its package)."""
    generator_output_glob: str
    """Glob (relative to the output dir, {arch} replaced) of the files of the target's launcher kind."""
    generator_markers: tuple[str, ...] = ()
    """At least one of these must occur in the generator's text (tells 2024 from 2025+ generators)."""
    generator_absent: tuple[str, ...] = ()
    """Strings that must not occur in the generator's text."""
    generator_args: tuple[str, ...] = ()
    """Extra generator arguments; {arch} is replaced by the target's generator arch."""
    cutlass_python: str = "python"
    """CUTLASS's python/ folder, relative to CUTLASS (put on PYTHONPATH for the generator)."""
    submodule_fix: str = ""
    """The command that populates an empty CUTLASS submodule."""
    priority: int = 0
    """Higher wins when several profiles match."""



def load_profile(path: Path) -> Profile:
    data, _ = read_toml(path, "profile")
    errors: list[str] = []
    prof = build(Profile, data, "", errors, {"path": path})
    if not errors and prof.generator_style not in ("script", "package"):
        errors.append("generator_style: expected 'script' or 'package'")
    if errors:
        raise invalid(path, "profile", errors)
    return prof


def load_profiles(directory: Path) -> list[Profile]:
    return [load_profile(p) for p in sorted(directory.glob("*.toml"))]


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


def matching_profiles(tree: Path, profiles: list[Profile]) -> list[Profile]:
    """The profiles whose markers all exist in TREE (and whose generator text fits)."""
    return [p for p in profiles if all((tree / m).exists() for m in p.markers) and _generator_matches(p, tree)]


def detect(path: Path, profiles: list[Profile], *, cutlass: Path | None = None) -> tuple[SourceTree, Profile]:
    """Find the profile whose markers all exist; checks that CUTLASS is populated."""
    tree = _check_dir(path, "--trtllm")
    matches = matching_profiles(tree, profiles)
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
