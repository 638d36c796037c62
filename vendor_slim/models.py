"""Plain, frozen model objects passed between stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Lang = Literal["cu", "cxx"]
Role = Literal["runner", "launcher", "gemv", "api", "link"]


@dataclass(frozen=True)
class Roots:
    """Where upstream code lives: files under these are in-tree (vendored), all else is external."""

    trtllm: Path
    cutlass: Path

    def classify(self, path: Path) -> str | None:
        """'trtllm', 'cutlass' or None (external). CUTLASS may sit inside the TensorRT-LLM tree."""
        p = path.resolve()
        for name, root in sorted(
            (("cutlass", self.cutlass.resolve()), ("trtllm", self.trtllm.resolve())),
            key=lambda item: -len(str(item[1])),
        ):
            if p == root or root in p.parents:
                return name
        return None


@dataclass(frozen=True)
class SourceTree:
    """A detected upstream tree and the profile facts needed to use it."""

    path: Path
    layout: str
    roots: Roots
    code_root: Path  # rules' relative paths to TensorRT-LLM files are taken from here
    include_dirs: tuple[Path, ...]  # in-tree -I directories, in order
    generator: Path
    generator_style: Literal["script", "package"]
    generator_args: tuple[str, ...]
    generator_output_glob: str
    cutlass_python: Path
    commit: str | None = None


@dataclass(frozen=True)
class CompileSpec:
    """How a TU is compiled: what the emitted build and the oracle both use."""

    include_dirs: tuple[Path, ...]
    defines: tuple[str, ...]  # NAME or NAME=VALUE
    std: str = "c++17"
    cuda_arch: str = "90a"  # compute_/sm_ suffix

    def preprocessor_args(self, lang: Lang, cuda_include: Path | None = None) -> list[str]:
        """The contract's `args`: -I/-D (and, for host C++ TUs, CUDA's include dirs)."""
        args = [f"-I{d}" for d in self.include_dirs]
        if lang == "cxx" and cuda_include is not None:
            args += ["-isystem", str(cuda_include)]
            cccl = cuda_include / "cccl"
            if cccl.is_dir():
                args += ["-isystem", str(cccl)]
        args += [f"-D{d}" for d in self.defines]
        return args


@dataclass(frozen=True)
class TranslationUnit:
    source: Path
    role: Role
    lang: Lang
    spec: CompileSpec


@dataclass(frozen=True)
class Instantiation:
    """One explicit instantiation read from a generated file."""

    file: str  # relative to the generator's output directory
    index: int  # position within its file
    function: str
    namespace: tuple[str, ...]
    args: tuple[str, ...]  # template arguments as written (tokens joined by spaces where needed)
    params: str  # the parameter list as written, without parentheses
    return_type: str
    guard: tuple[str, ...] = ()  # enclosing #if conditions, outermost first
    act: str = ""
    weight: str = ""
    scale_zero: str = ""
    bias: str = ""
    out: str = ""
    quant_op: str = ""
    epilogue: str = ""
    cta: tuple[int, ...] = ()
    cluster: tuple[int, ...] = ()
    mainloop: str = ""
    epilogue_schedule: str = ""

    @property
    def key(self) -> tuple[str, int]:
        return (self.file, self.index)

    def declaration(self) -> str:
        """The explicit instantiation as a C++ statement (without its namespaces)."""
        return f"template {self.return_type} {self.function}<{', '.join(self.args)}>({self.params});"


@dataclass(frozen=True)
class Selection:
    instantiations: tuple[Instantiation, ...]
    selected: frozenset[tuple[str, int]]
    needed: frozenset[tuple[str, int]] | None  # None: the runner could not be analysed
    missing_for_runner: tuple[str, ...]  # launchers the runner references that nobody generates
    preamble: tuple[str, ...]  # the #include lines the generated files start with


@dataclass(frozen=True)
class TUClosure:
    source: Path
    role: Role
    lang: Lang
    args: tuple[str, ...]
    files: tuple[Path, ...]  # in-tree files read, the TU itself included, sorted
    external: tuple[Path, ...]
    unresolved: tuple[str, ...]
    edges: tuple[tuple[Path, Path, int], ...] = field(default=())  # includer, included, line


@dataclass(frozen=True)
class ClosureStats:
    """What computing a closure cost: how many libclang parses ran and what was reused."""

    parses: int = 0  # libclang parses run (one per TU-group and compiler pass)
    jobs: int = 0  # distinct parse jobs (TUs sharing a preamble and arguments are one job)
    cache_hits: int = 0  # jobs answered from the on-disk cache
    shared_tus: int = 0  # TUs answered by another TU's job (same preamble and arguments)
    seconds: float = 0.0


@dataclass(frozen=True)
class ClosureReport:
    """Per-TU closures, their union and the include graphs (networkx DiGraph, nodes are path strings)."""

    roots: Roots
    tus: tuple[TUClosure, ...]
    union: tuple[Path, ...]  # in-tree files over all TUs, sorted
    graphs: tuple[Any, ...]  # one networkx.DiGraph per TU, in the order of `tus`
    graph: Any  # networkx.DiGraph: the union of `graphs`
    stats: ClosureStats = field(default_factory=ClosureStats)


@dataclass(frozen=True)
class Upstream:
    """Provenance of one upstream root (read with gitpython)."""

    name: str  # trtllm | cutlass
    root: Path  # files are vendored relative to this (TensorRT-LLM: its code root)
    repo: Path  # the checkout's top level: provenance, licence file and `origin` paths
    layout: str | None
    remote: str | None
    commit: str | None
    dirty: bool


@dataclass(frozen=True)
class EmitInput:
    """Everything the emit stage writes, decided by the earlier stages."""

    name: str  # the emitted tree's name (w4a16-sm90)
    library: str  # CMake target / package name
    upstreams: tuple[Upstream, ...]
    vendored: tuple[tuple[str, Path], ...]  # (upstream name, absolute in-tree file), sorted
    tool_files: tuple[Any, ...]  # stages.target.ToolFile, sorted by path
    staging: Path  # where tool files were written for analysis (mapped back to the tree's root)
    tus: tuple[TranslationUnit, ...]  # every compiled TU of the library (runner, launcher, api, link)
    include_dirs: tuple[Path, ...]  # in the order of the TUs' CompileSpec (staging and in-tree paths)
    defines: tuple[str, ...]
    std: str
    cuda_arch: str
    cuda_flags: tuple[str, ...]
    link_libraries: tuple[str, ...]  # CMake targets the library links (CUDA::cudart, CUDA::cuda_driver...)
    test_sources: tuple[str, ...]  # tool-file paths of the test program
    test_libraries: tuple[str, ...]
    public_headers: tuple[str, ...]
    kernels: tuple[Instantiation, ...]
    kernel_tus: tuple[tuple[str, tuple[Instantiation, ...]], ...]  # generated TU path and its kernels
    link_sources: tuple[tuple[Path, tuple[str, ...]], ...]  # link-closure source and what it provides
    quant_ops: tuple[str, ...]
    rules_path: str  # as recorded in the lock (relative)
    rules_sha256: str
    generator_path: str  # relative to the tree
    generator_args: tuple[str, ...]
    gemv: dict[str, Any] | None = None  # the GEMV selection: dispatcher TUs, their arguments, max M
    api_namespace: str = ""  # export only this namespace from the shared library (symbol isolation)
