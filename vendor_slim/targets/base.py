"""The target interface: what the engine cannot know about one kind of upstream tree.

The application layer calls a target in this order (app/pipeline.py), and hands what it returns to
the generic engine (closure, link, emit, verify), which never imports a target:

1. `detect(tree, options)`: which of the target's layout profiles the tree is (a `SourceTree`);
2. `kernels(src, options, cache)`: run the target's generator, parse what it writes into records,
   select them and cross-check them against what the entry point reaches (a `Kernels`: its
   `kernels --json` document and what the entry point needs that nobody generates);
3. `plan(src, kernels, options, cache)`: the tool-written files (generated TUs, API, test program,
   config header, stubs), the TUs to compile with their `CompileSpec`, the seeds of the link closure,
   the include folders that are external (CUDA, PyTorch, Python: found by the emitted CMake, never
   vendored) and the extra CMake packages and link targets (a `BuildPlan`); composed recipes (the
   TensorRT-LLM GEMV) add their TUs and files here;
4. `emit_facts(src, kernels, plan)`: the names and provenance the emitted tree and its lock record.

`diff` also asks for the rules a lock recorded (`lock_rules`, `rules_record`, `default_per_tu`).
A target is registered in targets/registry.py; targets never import one another nor the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from vendor_slim.models import (
    CompileSpec,
    Instantiation,
    Shape,
    SourceTree,
    SymbolJob,
    ToolFile,
    TranslationUnit,
)
from vendor_slim.targets.profile import Profile


@dataclass(frozen=True)
class Options:
    """What the user asked of the target (the target-facing part of app.settings.Settings)."""

    rules: Path | None = None
    """The target's rules file (default: the one the target ships)."""
    variants: tuple[str, ...] = ()
    """Variants asked for (TensorRT-LLM: --quant-op values); empty: the target's default."""
    overrides: tuple[tuple[str, Path], ...] = ()
    """Upstream roots taken from elsewhere than the tree's own copy, e.g. (("cutlass", PATH),)."""
    shape: Shape = field(default_factory=Shape)
    """All of the target, or only its kernel library (and how many kernels, how many per TU)."""

    def override(self, name: str) -> Path | None:
        return dict(self.overrides).get(name)


class Kernels(Protocol):
    """A target's analysed kernels."""

    @property
    def source(self) -> SourceTree:
        ...

    @property
    def kept(self) -> tuple[Instantiation, ...]:
        """The kernels an emitted tree holds (selected and needed by the entry point)."""
        ...

    @property
    def missing(self) -> tuple[str, ...]:
        """What the entry point references that the generator does not write (exit 1)."""
        ...

    def document(self, commit: str | None) -> dict[str, Any]:
        """The `kernels --json` document."""
        ...


@dataclass(frozen=True)
class BuildPlan:
    """What the target hands the engine to analyse and emit."""

    kernels: tuple[Instantiation, ...]
    """The kernels the tree builds (the lock's `kernels`, KERNELS.md)."""
    kernel_tus: tuple[tuple[str, tuple[Instantiation, ...]], ...]
    """Each generated TU (path in the tree) and its kernels."""
    files: tuple[ToolFile, ...]
    """Every file the tool writes, sorted by path."""
    staging: Path
    """Where `files` were written for analysis, laid out like the emitted tree."""
    spec: CompileSpec
    tus: tuple[TranslationUnit, ...]
    """Every compiled TU before the link closure adds its sources."""
    link_seeds: tuple[SymbolJob, ...]
    """How the link closure parses the TUs (shared preambles, explicit instantiations)."""
    link_exclude: tuple[Path, ...] = ()
    """Sources the link closure must never pick (the generated TUs)."""
    external_dirs: tuple[Path, ...] = ()
    """Include folders of external dependencies (PyTorch, Python): read, classified external, never
    vendored; the emitted CMake gets them from `cmake_packages`."""
    cmake_packages: tuple[str, ...] = ()
    """`find_package` arguments of the emitted CMake beyond CUDAToolkit, e.g. "Torch REQUIRED"."""
    link_libraries: tuple[str, ...] = ()
    """CMake targets the library links beyond the CUDA ones the link closure finds."""
    recipes: dict[str, Any] | None = None
    """Composed recipes as the lock records them (TensorRT-LLM: the GEMV selection)."""
    check_probes: tuple[tuple[str, str], ...] = ()
    """TUs (what each stands for, its text) that extract's compile check compiles besides the
    tool-written TUs and headers, e.g. the generated TUs' shared preamble without the kernels."""
    deferred: str = ""
    """Bad input found while planning, reported (exit 2) after the include closure, so that a tree
    whose TUs cannot be read at all (a missing header) is told that first, with its include chain."""


@dataclass(frozen=True)
class EmitFacts:
    """The target's names and provenance for the emitted tree, its lock, README and SBOM."""

    name: str
    library: str
    variants: tuple[str, ...]
    rules_path: str
    rules_sha256: str
    generator_path: str
    generator_args: tuple[str, ...]
    cuda_flags: tuple[str, ...] = ()
    test_sources: tuple[str, ...] = ()
    test_libraries: tuple[str, ...] = ()
    public_headers: tuple[str, ...] = ()
    api_namespace: str = ""


class Target(Protocol):
    """One kind of upstream tree; see the module docstring for the order of the calls."""

    name: str
    """Registry name, e.g. "w4a16-sm90" (`--target NAME`)."""
    description: str

    def profiles(self) -> Sequence[Profile]:
        """The layouts that detect a tree of this kind."""
        ...

    def detect(self, tree: Path, options: Options) -> SourceTree:
        """The tree as one of `profiles()`; BadInput listing what was looked for otherwise."""
        ...

    def kernels(self, src: SourceTree, options: Options, cache: Path) -> Kernels:
        ...

    def plan(self, src: SourceTree, kernels: Kernels, options: Options, cache: Path) -> BuildPlan:
        """CheckFailed when the entry point needs kernels nobody generates."""
        ...

    def emit_facts(self, src: SourceTree, kernels: Kernels, plan: BuildPlan, options: Options) -> EmitFacts:
        ...

    # for `diff`: redo an extraction from what a lock recorded

    def default_per_tu(self, options: Options) -> int:
        """Kernels per generated TU when --per-tu is not given."""
        ...

    def rules_record(self, options: Options) -> dict[str, str]:
        """The rules file as the lock records it: {"path", "sha256"}."""
        ...

    def lock_rules(self, recorded: str) -> Path | None:
        """The rules file a lock's `rules.path` names, when this installation ships it."""
        ...
