"""The emitted documents: README.md, NOTICE, KERNELS.md and the SBOM."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from vendor_slim import __version__
from vendor_slim.engine.emit.licences import TOOL_LICENSE
from vendor_slim.engine.emit.tree import OutFile, upstream_root
from vendor_slim.engine.sbom import SBOM_NAME, TOOL_PART, Component, render_sbom, summary_line
from vendor_slim.layout import (
    BENCH,
    BUILD,
    CHECK,
    CONFIGURE,
    LOCK_NAME,
    UPSTREAM_DIRS,
    UPSTREAM_NAMES,
    TreeCounts,
    command,
    test_program,
)
from vendor_slim.models import EmitInput, Instantiation


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
    if u.pinned and u.commit and u.pinned != u.commit:
        dirty += f" (its superproject pins {u.pinned})"
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


def render_notice(inp: EmitInput, licenses: dict[str, str], summary: dict[str, dict[str, int]] | None = None,
                  counts: TreeCounts | None = None) -> str:
    lines = [f"{inp.name}", "", "This tree holds files copied unchanged from the following upstream projects, "
             "under their own licences (the licence files are kept at their upstream paths under third_party/):",
             ""]
    n_up = counts.upstream if counts else {u.name: sum(1 for n, _ in inp.vendored if n == u.name)
                                           for u in inp.upstreams}
    for u in inp.upstreams:
        lines.append(_upstream_line(u, licenses[u.name]) + f"; {n_up.get(u.name, 0)} files under "
                     f"{UPSTREAM_DIRS[u.name]}/ (licence files apart)")
    lines += ["", f"The build files, the public API under include/ and src/, the generated kernel files and the "
              f"test program were written by vendor-slim {__version__} (licence {TOOL_LICENSE})."]
    if counts is not None:
        lines += ["", f"In all, {counts.line()} ({LOCK_NAME} included)."]
    if summary is not None:
        lines += ["", "Licence summary (files per licence, the licence files included; a file's licence is the one "
                  f"its header states, else its project's; per file in {LOCK_NAME}; the components in {SBOM_NAME}):",
                  "",
                  *_summary_lines(inp, summary)]
    lines.append("")
    return "\n".join(lines)


def render_readme(inp: EmitInput, licenses: dict[str, str], summary: dict[str, dict[str, int]] | None = None,
                  counts: TreeCounts | None = None) -> str:
    lib = inp.library
    vals = {"src": ".", "build": "build", "jobs": "4", "test": test_program(lib)}
    steps = [" ".join(command(c, **vals)) for c in (CONFIGURE, BUILD, CHECK, BENCH)]
    n_up = counts.upstream if counts else {u.name: sum(1 for n, _ in inp.vendored if n == u.name)
                                           for u in inp.upstreams}
    in_all = f"\n\nIn all, {counts.line()} (`vendor.lock.json` included)." if counts else ""
    links = "\n".join(f"- `{p.relative_to(upstream_root(inp, p)).as_posix()}`: {', '.join(names)}"
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
  ({n_up.get("cutlass", 0)} files, licence files apart): upstream files at their upstream paths; see
  `NOTICE`.
- `test/`: a test-and-benchmark program (checks every compiled config against a reference, then
  times the best config per shape against cuBLAS FP16).
- `vendor.lock.json`: every file with its sha256, origin and licence, and the upstream commits.{in_all}

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
`build/` (and `build-*/`, `cmake-build-*/`) is named in `.gitignore`; `vendor-slim verify`, `publish`
and `extract` ignore exactly those folders too, so building inside the tree is fine.
Add `-DCMAKE_CUDA_COMPILER_LAUNCHER=ccache` to cache compiles; `-D{lib.upper()}_BUILD_TESTS=OFF`
skips the test program. TensorRT-LLM's logger is quiet unless `TLLM_LOG_LEVEL` is set.

## Use it

```cmake
find_package({lib} REQUIRED)   # after `cmake --install build --prefix PREFIX`
target_link_libraries(app PRIVATE {lib}::{lib})
```
or `add_subdirectory({inp.name})` and link `{lib}::{lib}`: as a subproject it builds neither its
test program nor install rules unless `{lib.upper()}_BUILD_TESTS` / `{lib.upper()}_INSTALL` are ON, and
leaves the parent's `CMAKE_BUILD_TYPE` alone. Shared or static, the library defines only
`{inp.api_namespace or lib}::` symbols globally (`{lib.upper()}_HIDE_UPSTREAM_SYMBOLS`, ON by default).

To regenerate this tree from a newer upstream with the same flags (recorded in `vendor.lock.json`):
`vendor-slim sync . --trtllm PATH`; `vendor-slim diff . --trtllm PATH` shows what that would change.

## Licences

{chr(10).join(_upstream_line(u, licenses[u.name]) for u in inp.upstreams)}
{_readme_summary(inp, summary)}"""


def _readme_summary(inp: EmitInput, summary: dict[str, dict[str, int]] | None) -> str:
    if summary is None:
        return ""
    return ("\nFiles per licence (each file's own licence is in `vendor.lock.json`; the upstream components, "
            f"with their commits, are in `{SBOM_NAME}`, CycloneDX 1.5):\n\n" + "\n".join(_summary_lines(inp, summary))
            + "\n")
