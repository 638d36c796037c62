"""Emit: plan the standalone tree as a list of files (bytes, role, origin, licence); write.py writes it.

Upstream files are copied byte for byte under `third_party/<upstream>/` at their upstream relative
paths, so upstream `#include` lines work unchanged. Everything else (CMake, README, NOTICE, the
kernel manifest, the lock) is rendered from the analysis, with sorted lists and no timestamps or
machine paths, so the same inputs give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

from vendor_slim.engine.compilecheck import CheckUnit
from vendor_slim.engine.emit.cmake import render_cmake, render_config, render_exports
from vendor_slim.engine.emit.docs import render_manifest, render_notice, render_readme, render_tree_sbom
from vendor_slim.engine.emit.licences import TOOL_LICENSE, detect_license, root_license
from vendor_slim.engine.emit.tree import OutFile, read_upstream, tree_path
from vendor_slim.engine.sbom import SBOM_NAME, TOOL_PART, license_summary
from vendor_slim.errors import BadInput
from vendor_slim.layout import GITIGNORE_NAME, UPSTREAM_DIRS, TreeCounts, render_gitignore, tree_counts
from vendor_slim.models import EmitInput


def plan_tree(inp: EmitInput) -> list[OutFile]:
    """Every file of the emitted tree but the lock, sorted by path."""
    roots = {u.name: u.root for u in inp.upstreams}
    repos = {u.name: u.repo for u in inp.upstreams}
    files: list[OutFile] = []
    licenses: dict[str, str] = {}
    for u in inp.upstreams:
        lic_path, lic = root_license(u.repo)
        licenses[u.name] = lic
        if lic_path is not None:
            files.append(OutFile(f"{UPSTREAM_DIRS[u.name]}/{lic_path.name}", read_upstream(lic_path), "license",
                                 lic_path.relative_to(u.repo).as_posix(), lic))
    tu_sources = {tu.source for tu in inp.tus}
    for name, path in inp.vendored:
        rel = path.relative_to(roots[name]).as_posix()
        data = read_upstream(path)
        role = "source" if path in tu_sources else "header"
        lic = detect_license(data.decode(errors="replace"), licenses[name])
        files.append(OutFile(f"{UPSTREAM_DIRS[name]}/{rel}", data, role, path.relative_to(repos[name]).as_posix(),
                             lic))
    for tf in inp.tool_files:
        files.append(OutFile(tf.path, tf.text.encode(), tf.role, None, TOOL_LICENSE))
    docs = {
        "CMakeLists.txt": ("build", render_cmake(inp, roots)),
        f"cmake/{inp.library}Config.cmake.in": ("build", render_config(inp)),
        "KERNELS.md": ("doc", render_manifest(inp)),
        GITIGNORE_NAME: ("build", render_gitignore()),
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
    # NOTICE, README.md and the SBOM are written after the count that they show
    pre = counts_of(files)
    counts = TreeCounts(pre.upstream, pre.licences, pre.tool + 3)
    files.append(OutFile("NOTICE", render_notice(inp, licenses, summary, counts).encode(), "doc", None,
                         TOOL_LICENSE))
    files.append(OutFile("README.md", render_readme(inp, licenses, summary, counts).encode(), "doc", None,
                         TOOL_LICENSE))
    files.sort(key=lambda f: f.path)
    files.append(OutFile(SBOM_NAME, render_tree_sbom(inp, files, summary).encode(), "doc", None, TOOL_LICENSE))
    files.sort(key=lambda f: f.path)
    assert sum(summary.get(TOOL_PART, {}).values()) == sum(1 for f in files if f.origin is None)
    assert counts_of(files) == counts
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


# ---------------------------------------------------------------------------------------------
# Writing




def counts_of(files: Sequence[OutFile]) -> TreeCounts:
    """The tree's counts (layout.tree_counts) for FILES and the lock."""
    return tree_counts((f.path, f.origin is not None, f.role) for f in files)


def check_units(inp: EmitInput) -> list[CheckUnit]:
    """What the compile check compiles (engine/compilecheck.py), with the flags CMakeLists.txt gives:
    the library's TUs and headers with its private and public folders and defines, the test TU with
    the public folder only (what linking the library target gives it), and the target's probes."""
    roots = {u.name: u.root for u in inp.upstreams}
    dirs = tuple(tree_path(d, inp, roots) for d in inp.include_dirs)
    flags = (f"-std={inp.std}", f"-gencode=arch=compute_{inp.cuda_arch},code=sm_{inp.cuda_arch}", *inp.cuda_flags)
    units = [CheckUnit(src, src, "", dirs, inp.defines, flags)
             for src in sorted(tree_path(tu.source, inp, roots) for tu in inp.tus if tu.role == "api")]
    units += [CheckUnit(src, src, "", ("include",), (), flags) for src in inp.test_sources]
    headers = [f.path.removeprefix("include/") for f in inp.tool_files
               if f.path.startswith("include/") and f.path.endswith(".h")]
    if headers:
        units.append(CheckUnit("the headers under include/ (" + ", ".join(headers) + ")", "",
                               "".join(f'#include "{h}"\n' for h in headers), dirs, inp.defines, flags))
    units += [CheckUnit(label, "", text, dirs, inp.defines, flags) for label, text in inp.check_probes]
    return units
