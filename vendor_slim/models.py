"""Plain, frozen model objects passed between stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Lang = Literal["cu", "cxx"]
Role = Literal["runner", "launcher", "gemv", "api", "link"]


def lang_of(path: Path) -> Lang:
    """How a source compiles: .cu with nvcc, anything else as host C++."""
    return "cu" if path.suffix == ".cu" else "cxx"


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
class ToolFile:
    """A file of the emitted tree that this tool writes (not copied from upstream)."""

    path: str  # relative to the emitted tree
    text: str
    role: str  # source | header | generated | stub


@dataclass(frozen=True)
class Shape:
    """What of the target to build: all of it, or (for trees whose runner cannot build, and for smoke
    builds) only the launcher library, optionally only its first kernels."""

    kernels_only: bool = False  # no runner TU, no public API, no test program
    max_kernels: int | None = None  # keep the first N selected kernels (in the tool's grouping order)
    per_tu: int | None = None  # instantiations per generated TU (default: the rules')


@dataclass(frozen=True)
class SymbolJob:
    """One TU as the link stage parses it."""

    source: Path
    lang: Lang
    spec: CompileSpec
    contents: str | None = None  # replaces the file's text (launcher TUs: their shared preamble)
    instantiated: tuple[str, ...] = ()  # function templates the TU explicitly instantiates
    overlays: tuple[tuple[str, str], ...] = ()  # in-memory file texts (the EDG-compatibility fix)


@dataclass(frozen=True)
class LinkResult:
    sources: tuple[Path, ...]  # chosen link sources, in the order they were found
    pulled_by: tuple[tuple[Path, tuple[str, ...]], ...]  # per chosen source, the symbols it provides
    unresolved: tuple[str, ...]  # symbols an in-tree header declares that no in-tree source defines
    external: tuple[str, ...] = ()  # headers declaring the library functions the TUs reach
    parsed: int = 0  # candidate sources parsed


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
    pinned: str | None = None  # the superproject's gitlink, for a submodule (CUTLASS in 3rdparty/cutlass)


@dataclass(frozen=True)
class EmitInput:
    """Everything the emit stage writes, decided by the earlier stages."""

    name: str  # the emitted tree's name (w4a16-sm90)
    library: str  # CMake target / package name
    upstreams: tuple[Upstream, ...]
    vendored: tuple[tuple[str, Path], ...]  # (upstream name, absolute in-tree file), sorted
    tool_files: tuple[ToolFile, ...]  # sorted by path
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
    cmake_packages: tuple[str, ...] = ()  # find_package arguments beyond CUDAToolkit (external roots)
    extract_flags: dict[str, Any] | None = None  # what extract was asked for (the lock's `extract`: sync uses it)
    check_probes: tuple[tuple[str, str], ...] = ()  # (what it stands for, TU text) the compile check compiles too


@dataclass(frozen=True)
class LockFile:
    """One file of an emitted tree as its lock lists it."""

    path: str
    sha256: str
    origin: str | None = None  # upstream path (relative to its repository) for copied files
    size: int | None = None
    role: str = ""
    license: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "origin": self.origin, "sha256": self.sha256, "size": self.size,
                "role": self.role, "license": self.license}


class LockError(ValueError):
    """The document is not a vendor-slim lock (the caller names the file)."""


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise LockError(f"{key!r} is not a table")
    return value


def _rows(data: dict[str, Any], key: str) -> tuple[dict[str, Any], ...]:
    value = data.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise LockError(f"{key!r} is not a list of tables")
    return tuple(value)


@dataclass(frozen=True)
class Lock:
    """vendor.lock.json, validated (older locks may lack the later keys: they read as empty)."""

    files: tuple[LockFile, ...]
    tool: dict[str, Any] = field(default_factory=dict)  # name, version
    library: str | None = None
    api_namespace: str | None = None
    rules: dict[str, Any] = field(default_factory=dict)  # path, sha256
    upstream: dict[str, Any] = field(default_factory=dict)  # per upstream: layout, remote, commit, dirty
    generator: dict[str, Any] = field(default_factory=dict)
    quant_ops: tuple[str, ...] = ()
    kernels: tuple[dict[str, Any], ...] = ()
    link: tuple[dict[str, Any], ...] = ()
    tus: tuple[dict[str, Any], ...] = ()  # path, role, lang
    extract: dict[str, Any] = field(default_factory=dict)  # the flags extract was given (sync re-uses them)

    @classmethod
    def from_json(cls, data: object) -> Lock:
        """LockError naming what is wrong (never an assert: `python -O` must not skip the check)."""
        if not isinstance(data, dict):
            raise LockError("not a JSON object")
        raw = data.get("files")
        if not isinstance(raw, list):
            raise LockError("'files' is missing or not a list")
        files = []
        for i, f in enumerate(raw):
            if not isinstance(f, dict) or not isinstance(f.get("path"), str) or not isinstance(f.get("sha256"), str):
                raise LockError(f"files[{i}] has no path and sha256")
            files.append(LockFile(f["path"], f["sha256"], f.get("origin"), f.get("size"), str(f.get("role") or ""),
                                  str(f.get("license") or "")))
        lib = data.get("library")
        ns = data.get("api_namespace")
        ops = data.get("quant_ops") or []
        if not isinstance(ops, list):
            raise LockError("'quant_ops' is not a list")
        return cls(files=tuple(files), tool=_table(data, "tool"), library=lib if isinstance(lib, str) else None,
                   api_namespace=ns if isinstance(ns, str) else None, rules=_table(data, "rules"),
                   upstream=_table(data, "upstream"), generator=_table(data, "generator"),
                   quant_ops=tuple(str(q) for q in ops), kernels=_rows(data, "kernels"), link=_rows(data, "link"),
                   tus=_rows(data, "tus"), extract=_table(data, "extract"))

    def file_rows(self) -> list[dict[str, Any]]:
        """The files as the lock's JSON rows."""
        return [f.to_json() for f in self.files]
