"""Emit: the standalone tree as a list of files (bytes, role, origin, licence), then written atomically.

Upstream files are copied byte for byte under `third_party/<upstream>/` at their upstream relative
paths, so upstream `#include` lines work unchanged. Everything else (CMake, README, NOTICE, the
kernel manifest, the lock) is rendered from the analysis, with sorted lists and no timestamps or
machine paths, so the same inputs give the same bytes.
"""

from __future__ import annotations

import ctypes
import errno
import glob
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vendor_slim import __version__
from vendor_slim.engine.sbom import SBOM_NAME, TOOL_PART, Component, license_summary, render_sbom, summary_line
from vendor_slim.errors import BadInput
from vendor_slim.layout import (
    BENCH,
    BUILD,
    CHECK,
    CONFIGURE,
    GIT_DIR,
    LOCK_NAME,
    UPSTREAM_DIRS,
    UPSTREAM_NAMES,
    command,
    in_git_dir,
    test_program,
)
from vendor_slim.models import EmitInput, Instantiation

LICENSE_FILES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "COPYING")
TOOL_LICENSE = "Apache-2.0"  # the tool-owned API, build and docs follow TensorRT-LLM's licence


@dataclass(frozen=True)
class OutFile:
    path: str  # relative to the emitted tree, posix
    data: bytes
    role: str
    origin: str | None  # upstream path relative to its root, for copied files
    license: str


def detect_license(text: str, default: str) -> str:
    """The licence a file's header states (SPDX tag or the licence's own words), else DEFAULT."""
    head = text[:4000]
    if "SPDX-License-Identifier:" in head:
        tag = head.split("SPDX-License-Identifier:", 1)[1].split()[0].strip("*/ ")
        if tag:
            return tag
    if "Apache License" in head and "2.0" in head:
        return "Apache-2.0"
    if "Redistribution and use in source and binary forms" in head or "BSD-3-Clause" in head:
        return "BSD-3-Clause"
    if "Permission is hereby granted, free of charge" in head:
        return "MIT"
    return default


def _why(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()


def _read(path: Path) -> bytes:
    """An upstream file's bytes; an unreadable one is bad input naming it, not a crash."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BadInput(f"{path} cannot be read: {_why(exc)}") from exc


def _root_license(root: Path) -> tuple[Path | None, str]:
    for name in LICENSE_FILES:
        p = root / name
        if p.is_file():
            return p, detect_license(_read(p).decode(errors="replace"), "NOASSERTION")
    return None, "NOASSERTION"


def _map_dir(d: Path, inp: EmitInput, roots: dict[str, Path]) -> str | None:
    """An analysis-time include folder as a path inside the emitted tree."""
    if d == inp.staging or inp.staging in d.parents:
        return d.relative_to(inp.staging).as_posix()
    for name in ("cutlass", "trtllm"):  # CUTLASS may sit inside TensorRT-LLM: most specific first
        r = roots[name]
        if d == r or r in d.parents:
            rel = d.relative_to(r).as_posix()
            return UPSTREAM_DIRS[name] + ("" if rel == "." else f"/{rel}")
    return None


def plan_tree(inp: EmitInput) -> list[OutFile]:
    """Every file of the emitted tree but the lock, sorted by path."""
    roots = {u.name: u.root for u in inp.upstreams}
    repos = {u.name: u.repo for u in inp.upstreams}
    files: list[OutFile] = []
    licenses: dict[str, str] = {}
    for u in inp.upstreams:
        lic_path, lic = _root_license(u.repo)
        licenses[u.name] = lic
        if lic_path is not None:
            files.append(OutFile(f"{UPSTREAM_DIRS[u.name]}/{lic_path.name}", _read(lic_path), "license",
                                 lic_path.relative_to(u.repo).as_posix(), lic))
    tu_sources = {tu.source for tu in inp.tus}
    for name, path in inp.vendored:
        rel = path.relative_to(roots[name]).as_posix()
        data = _read(path)
        role = "source" if path in tu_sources else "header"
        lic = detect_license(data.decode(errors="replace"), licenses[name])
        files.append(OutFile(f"{UPSTREAM_DIRS[name]}/{rel}", data, role, path.relative_to(repos[name]).as_posix(),
                             lic))
    for f in inp.tool_files:
        files.append(OutFile(f.path, f.text.encode(), f.role, None, TOOL_LICENSE))
    docs = {
        "CMakeLists.txt": ("build", render_cmake(inp, roots)),
        f"cmake/{inp.library}Config.cmake.in": ("build", render_config(inp)),
        "KERNELS.md": ("doc", render_manifest(inp)),
        **({"cmake/exports.map": ("build", render_exports(inp))} if inp.api_namespace else {}),
    }
    for rel_path, (role, text) in docs.items():
        files.append(OutFile(rel_path, text.encode(), role, None, TOOL_LICENSE))
    # the licence summary counts every file, NOTICE, README.md and the SBOM too, written after it
    prefixes = {f"{UPSTREAM_DIRS[u.name]}/": u.name for u in inp.upstreams}
    summary = license_summary(
        [(next((n for pre, n in prefixes.items() if f.origin is not None and f.path.startswith(pre)), None), f.license)
         for f in files]
        + [(None, TOOL_LICENSE)] * 3
    )
    files.append(OutFile("NOTICE", render_notice(inp, licenses, summary).encode(), "doc", None, TOOL_LICENSE))
    files.append(OutFile("README.md", render_readme(inp, licenses, summary).encode(), "doc", None, TOOL_LICENSE))
    files.sort(key=lambda f: f.path)
    files.append(OutFile(SBOM_NAME, render_tree_sbom(inp, files, summary).encode(), "doc", None, TOOL_LICENSE))
    files.sort(key=lambda f: f.path)
    assert sum(summary.get(TOOL_PART, {}).values()) == sum(1 for f in files if f.origin is None)
    seen: set[str] = set()
    for f in files:
        parts = f.path.split("/")
        if f.path.startswith("/") or any(part in ("", ".", "..") for part in parts):
            # a path from the rules (config header, stub include) must stay inside the tree
            raise BadInput(f"the emitted tree would hold a file at {f.path!r}, which is not a plain relative "
                           "path inside it; fix the rules file")
        if f.path in seen:
            raise BadInput(f"two files of the emitted tree would be written to {f.path}")
        seen.add(f.path)
    return files


def _cmake_list(items: Sequence[str], indent: str = "  ") -> str:
    return "\n".join(f"{indent}{i}" for i in items)


def _tree_path(p: Path, inp: EmitInput, roots: dict[str, Path]) -> str:
    mapped = _map_dir(p, inp, roots)
    if mapped is None:
        raise BadInput(f"{p} is neither an upstream file nor one this tool writes")
    return mapped


def render_cmake(inp: EmitInput, roots: dict[str, Path]) -> str:
    lib = inp.library
    up = lib.upper()
    sources = sorted(_tree_path(tu.source, inp, roots) for tu in inp.tus)
    private_inc: list[str] = []
    public_inc: list[str] = []
    for d in inp.include_dirs:
        mapped = _map_dir(d, inp, roots)
        if mapped is None:
            raise BadInput(f"include folder {d} is outside the upstream roots")
        (public_inc if mapped == "include" else private_inc).append(f"${{CMAKE_CURRENT_SOURCE_DIR}}/{mapped}")
    arch = inp.cuda_arch
    cuda_opts = [f"-gencode=arch=compute_{arch},code=sm_{arch}", *inp.cuda_flags]
    defines = _cmake_list(inp.defines, "    ")
    isolation = ""
    if inp.api_namespace:
        isolation = f"""option({up}_HIDE_UPSTREAM_SYMBOLS "Export only {inp.api_namespace}:: symbols" ON)
if(BUILD_SHARED_LIBS AND {up}_HIDE_UPSTREAM_SYMBOLS)
  # Upstream symbols (tensorrt_llm::, cutlass::) stay local to the library: loaded next to TensorRT-LLM
  # or FlashInfer, which define the same names, each binds to its own. The sources are unchanged.
  target_link_options({lib} PRIVATE "LINKER:--version-script=${{CMAKE_CURRENT_SOURCE_DIR}}/cmake/exports.map")
  set_property(TARGET {lib} APPEND PROPERTY LINK_DEPENDS ${{CMAKE_CURRENT_SOURCE_DIR}}/cmake/exports.map)
endif()
"""
    test = ""
    if inp.test_sources:
        test = f"""
if({up}_BUILD_TESTS)
  find_package(CUDAToolkit REQUIRED)
  add_executable({test_program(lib)}
{_cmake_list(inp.test_sources, "    ")}
  )
  set_target_properties({test_program(lib)} PROPERTIES CUDA_ARCHITECTURES OFF)
  target_compile_options({test_program(lib)} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:{";".join(cuda_opts)}>)
  target_link_libraries({test_program(lib)} PRIVATE {lib}::{lib} {" ".join(inp.test_libraries)})
endif()
"""
    return f"""# Generated by vendor-slim {__version__}; regenerate with `vendor-slim extract` rather than editing.
cmake_minimum_required(VERSION 3.18)
project({lib} VERSION 0.1.0 LANGUAGES CXX CUDA)

option({up}_BUILD_TESTS "Build the test-and-benchmark program" ON)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
set(CMAKE_CXX_STANDARD {inp.std.removeprefix("c++")})
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CUDA_STANDARD {inp.std.removeprefix("c++")})
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
# CMAKE_CUDA_COMPILER_LAUNCHER (ccache, sccache) is honoured as given on the command line.

find_package(CUDAToolkit REQUIRED)

add_library({lib}
{_cmake_list(sources)}
)
add_library({lib}::{lib} ALIAS {lib})
# The arch is passed explicitly: CMake before 3.28 drops the "a" of CUDA_ARCHITECTURES=90a, and the
# TMA/WGMMA kernels then fail at run time.
set_target_properties({lib} PROPERTIES CUDA_ARCHITECTURES OFF POSITION_INDEPENDENT_CODE ON)
target_compile_options({lib} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:{";".join(cuda_opts)}>)
target_compile_definitions({lib} PRIVATE
{defines}
)
target_include_directories({lib}
  PUBLIC
    $<BUILD_INTERFACE:{";".join(public_inc)}>
    $<INSTALL_INTERFACE:include>
  PRIVATE
{_cmake_list(private_inc, "    ")}
)
target_link_libraries({lib} PUBLIC {" ".join(inp.link_libraries)})
if(BUILD_SHARED_LIBS)
  # a shared library must resolve every symbol now: this is the link-completeness check
  target_link_options({lib} PRIVATE "LINKER:--no-undefined")
endif()
{isolation}
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
install(TARGETS {lib} EXPORT {lib}Targets
  ARCHIVE DESTINATION ${{CMAKE_INSTALL_LIBDIR}}
  LIBRARY DESTINATION ${{CMAKE_INSTALL_LIBDIR}}
  RUNTIME DESTINATION ${{CMAKE_INSTALL_BINDIR}}
  INCLUDES DESTINATION ${{CMAKE_INSTALL_INCLUDEDIR}})
install(DIRECTORY include/ DESTINATION ${{CMAKE_INSTALL_INCLUDEDIR}})
install(EXPORT {lib}Targets NAMESPACE {lib}:: DESTINATION ${{CMAKE_INSTALL_LIBDIR}}/cmake/{lib})
configure_package_config_file(cmake/{lib}Config.cmake.in
  ${{CMAKE_CURRENT_BINARY_DIR}}/{lib}Config.cmake
  INSTALL_DESTINATION ${{CMAKE_INSTALL_LIBDIR}}/cmake/{lib})
write_basic_package_version_file(${{CMAKE_CURRENT_BINARY_DIR}}/{lib}ConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${{CMAKE_CURRENT_BINARY_DIR}}/{lib}Config.cmake ${{CMAKE_CURRENT_BINARY_DIR}}/{lib}ConfigVersion.cmake
  DESTINATION ${{CMAKE_INSTALL_LIBDIR}}/cmake/{lib})
{test}"""


def render_exports(inp: EmitInput) -> str:
    """A linker version script exporting only the API namespace."""
    return (f"/* Generated by vendor-slim: export only {inp.api_namespace}:: (see CMakeLists.txt). */\n"
            f"{{\n  global:\n    extern \"C++\" {{\n      {inp.api_namespace}::*;\n    }};\n  local:\n    *;\n}};\n")


def render_config(inp: EmitInput) -> str:
    return f"""@PACKAGE_INIT@
include(CMakeFindDependencyMacro)
find_dependency(CUDAToolkit)
include("${{CMAKE_CURRENT_LIST_DIR}}/{inp.library}Targets.cmake")
check_required_components({inp.library})
"""


def _kernel_row(inst: Instantiation, tu: str) -> str:
    cta = "x".join(map(str, inst.cta))
    cluster = "x".join(map(str, inst.cluster))
    op = inst.quant_op.rsplit("::", 1)[-1]
    return (f"| {op} | {inst.act} | {inst.weight} | {cta} | {cluster} | {inst.mainloop.rsplit('::', 1)[-1]} "
            f"| {inst.epilogue_schedule.rsplit('::', 1)[-1]} | `{tu}` |")


def render_manifest(inp: EmitInput) -> str:
    lines = [f"# Kernels in {inp.name}", "",
             f"{len(inp.kernels)} `{inp.kernels[0].function if inp.kernels else ''}` instantiations, "
             f"selected by vendor-slim from the generator's output and referenced by the runner, in "
             f"{len(inp.kernel_tus)} generated TUs.", "",
             "| quant op | act | weight | CTA | cluster | mainloop | epilogue | TU |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for tu, insts in inp.kernel_tus:
        lines += [_kernel_row(i, tu) for i in insts]
    if inp.gemv:
        g = inp.gemv
        lines += ["", "## CUDA-core GEMV (small M)", "",
                  f"`{g['function']}` for `{', '.join(g['args'])}`, M = 1..{g['max_m']} (read from the upstream "
                  "dispatcher), compiled from: "
                  + ", ".join(f"`{UPSTREAM_DIRS['trtllm']}/{d}`" for d in g["dispatchers"])]
    return "\n".join(lines) + "\n"


def _upstream_line(u: Any, lic: str) -> str:
    commit = u.commit or "unknown commit (not a git checkout)"
    dirty = " (with uncommitted changes)" if u.dirty else ""
    return f"- {UPSTREAM_NAMES[u.name]}: {u.remote or 'no remote recorded'} at {commit}{dirty}; licence {lic}"


def render_tree_sbom(inp: EmitInput, files: Sequence[OutFile], summary: dict[str, dict[str, int]]) -> str:
    """sbom.cdx.json for the tree whose other files are FILES (their hashes seed the serial number)."""
    seed = hashlib.sha256("".join(f"{f.path}\0{hashlib.sha256(f.data).hexdigest()}\n" for f in files).encode())
    comps = [Component(u.name, UPSTREAM_NAMES[u.name], u.remote, u.commit, u.dirty, u.layout, UPSTREAM_DIRS[u.name],
                       summary.get(u.name, {})) for u in inp.upstreams]
    props = [("quant_ops", ",".join(inp.quant_ops)), ("kernels", str(len(inp.kernels))),
             ("rules_sha256", inp.rules_sha256)]
    tool = summary.get(TOOL_PART, {})
    return render_sbom(name=inp.name, library=inp.library, tool_version=__version__, tool_license=TOOL_LICENSE,
                       tool_files=sum(tool.values()), components=comps, properties=props, seed=seed.hexdigest())


def _summary_lines(inp: EmitInput, summary: dict[str, dict[str, int]] | None) -> list[str]:
    if summary is None:
        return []
    lines = [f"- {UPSTREAM_NAMES[u.name]}: {summary_line(summary[u.name])}" for u in inp.upstreams if u.name in summary]
    if TOOL_PART in summary:
        lines.append(f"- written by vendor-slim: {summary_line(summary[TOOL_PART])}")
    return lines


def render_notice(inp: EmitInput, licenses: dict[str, str], summary: dict[str, dict[str, int]] | None = None) -> str:
    lines = [f"{inp.name}", "", "This tree holds files copied unchanged from the following upstream projects, "
             "under their own licences (the licence files are kept at their upstream paths under third_party/):",
             ""]
    counts = {u.name: sum(1 for n, _ in inp.vendored if n == u.name) for u in inp.upstreams}
    for u in inp.upstreams:
        lines.append(_upstream_line(u, licenses[u.name]) + f"; {counts[u.name]} files under {UPSTREAM_DIRS[u.name]}/")
    lines += ["", f"The build files, the public API under include/ and src/, the generated kernel files and the "
              f"test program were written by vendor-slim {__version__} (licence {TOOL_LICENSE})."]
    if summary is not None:
        lines += ["", "Licence summary (files per licence, the licence files included; a file's licence is the one "
                  f"its header states, else its project's; per file in {LOCK_NAME}; the components in {SBOM_NAME}):",
                  "",
                  *_summary_lines(inp, summary)]
    lines.append("")
    return "\n".join(lines)


def render_readme(inp: EmitInput, licenses: dict[str, str], summary: dict[str, dict[str, int]] | None = None) -> str:
    lib = inp.library
    vals = {"src": ".", "build": "build", "jobs": "4", "test": test_program(lib)}
    steps = [" ".join(command(c, **vals)) for c in (CONFIGURE, BUILD, CHECK, BENCH)]
    n_up = {u.name: sum(1 for n, _ in inp.vendored if n == u.name) for u in inp.upstreams}
    links = "\n".join(f"- `{p.relative_to(_root(inp, p)).as_posix()}`: {', '.join(names)}"
                      for p, names in inp.link_sources)
    ops = ", ".join(inp.quant_ops)
    return f"""# {inp.name}

A standalone build of TensorRT-LLM's W4A16 Hopper GEMM (FP16 activations x INT4 weights,
`CutlassFpAIntBGemmRunner`, quant ops: {ops}) for `sm_{inp.cuda_arch}`, extracted by vendor-slim {__version__}.
It holds exactly the upstream files the compiler reads for these kernels, unchanged.

## What is inside

- `include/{lib}/`: the public API (`{lib}.h`): weight preprocessing, workspace size, the GEMM.
- `src/`: its implementation over the vendored runner, and `src/generated/`: {len(inp.kernels)} kernel
  instantiations in {len(inp.kernel_tus)} TUs (listed in `KERNELS.md`).
- `third_party/tensorrt_llm/` ({n_up.get("trtllm", 0)} files) and `third_party/cutlass/`
  ({n_up.get("cutlass", 0)} files): upstream files at their upstream paths; see `NOTICE`.
- `test/`: a test-and-benchmark program (checks every compiled config against a reference, then
  times the best config per shape against cuBLAS FP16).
- `vendor.lock.json`: every file with its sha256, origin and licence, and the upstream commits.

Link-closure sources (found by vendor-slim from the symbols the TUs use):
{links}

## Build, test, benchmark

Needs CUDA 12.x or 13.x (nvcc with sm_90a), CMake >= 3.18 and Ninja. A launcher TU needs up to
~9 GB of memory to compile: choose `-j` from your memory, not your cores.

```sh
{steps[0]}
{steps[1]}
{steps[2]}
{steps[3]}
```

`vendor-slim verify` runs these same commands (with a fresh build folder) and checks the result.
Add `-DCMAKE_CUDA_COMPILER_LAUNCHER=ccache` to cache compiles; `-D{lib.upper()}_BUILD_TESTS=OFF`
skips the test program. TensorRT-LLM's logger is quiet unless `TLLM_LOG_LEVEL` is set.

## Use it

```cmake
find_package({lib} REQUIRED)   # after `cmake --install build --prefix PREFIX`
target_link_libraries(app PRIVATE {lib}::{lib})
```
or `add_subdirectory({inp.name})` and link `{lib}::{lib}`.

## Licences

{chr(10).join(_upstream_line(u, licenses[u.name]) for u in inp.upstreams)}
{_readme_summary(inp, summary)}"""


def _readme_summary(inp: EmitInput, summary: dict[str, dict[str, int]] | None) -> str:
    if summary is None:
        return ""
    return ("\nFiles per licence (each file's own licence is in `vendor.lock.json`; the upstream components, "
            f"with their commits, are in `{SBOM_NAME}`, CycloneDX 1.5):\n\n" + "\n".join(_summary_lines(inp, summary))
            + "\n")


def _root(inp: EmitInput, p: Path) -> Path:
    best = max((u.root for u in inp.upstreams if u.root in p.parents), key=lambda r: len(r.parts))
    return best


def render_lock(inp: EmitInput, files: Sequence[OutFile]) -> str:
    upstream: dict[str, Any] = {}
    for u in inp.upstreams:
        entry: dict[str, Any] = {"remote": u.remote, "commit": u.commit, "dirty": u.dirty}
        if u.layout is not None:
            entry = {"layout": u.layout, **entry}
        upstream[u.name] = entry
    lock = {
        "tool": {"name": "vendor-slim", "version": __version__},
        "library": inp.library,
        "api_namespace": inp.api_namespace or None,
        "rules": {"path": inp.rules_path, "sha256": inp.rules_sha256},
        "upstream": upstream,
        "generator": {"path": inp.generator_path, "args": list(inp.generator_args)},
        "quant_ops": list(inp.quant_ops),
        "files": [{"path": f.path, "origin": f.origin, "sha256": hashlib.sha256(f.data).hexdigest(),
                   "size": len(f.data), "role": f.role, "license": f.license} for f in files],
        "kernels": [{"function": i.function, "act": i.act, "weight": i.weight, "quant_op": i.quant_op,
                     "cta": list(i.cta), "cluster": list(i.cluster), "mainloop": i.mainloop,
                     "epilogue_schedule": i.epilogue_schedule, "tu": tu}
                    for tu, insts in inp.kernel_tus for i in insts],
        "gemv": inp.gemv,
        "link": [{"source": _tree_source(inp, p), "provides": list(names)} for p, names in inp.link_sources],
        "tus": sorted(({"path": _tree_source(inp, tu.source), "role": tu.role, "lang": tu.lang} for tu in inp.tus),
                      key=lambda t: t["path"]),
    }
    return json.dumps(lock, indent=2, sort_keys=False) + "\n"


def _tree_source(inp: EmitInput, p: Path) -> str:
    return _tree_path(p, inp, {u.name: u.root for u in inp.upstreams})


# ---------------------------------------------------------------------------------------------
# Writing


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
            raise BadInput(f"--out {out} cannot be read: {_why(exc)}") from exc
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
                   if (p.is_file() or p.is_symlink()) and not in_git_dir(p.relative_to(out).as_posix())}
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
        raise BadInput(f"--out {parent / name}: cannot write into {parent}: {_why(exc)}") from exc
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
    """Move a published tree's repository (.git) from the previous tree into its replacement."""
    if (src / GIT_DIR).is_dir() and dest.is_dir() and not os.path.lexists(dest / GIT_DIR):
        os.replace(src / GIT_DIR, dest / GIT_DIR)


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
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


def write_tree(out: Path, files: Sequence[OutFile], lock: str, *, force: bool) -> str:
    """Write the tree into a temporary folder beside OUT and rename it into place.

    Returns 'created', 'replaced' or 'unchanged'."""
    out = out.absolute()
    parent = out.parent
    if not parent.is_dir():
        try:
            parent.mkdir(parents=True)
        except OSError as exc:
            raise BadInput(f"--out {out}: cannot create {parent}: {_why(exc)}") from exc
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
    with _temp_dir(parent, out.name) as tmp:
        try:
            for f in files:
                p = tmp / f.path
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_bytes(f.data)
            (tmp / LOCK_NAME).write_text(lock)
            if existing:
                # one atomic swap where the kernel has it: OUT always holds a whole tree
                if _exchange(tmp, out):
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
            raise BadInput(f"--out {out}: cannot write the tree into {parent}: {_why(exc)}") from exc
