"""The analysis every tree-reading command shares: target -> kernels -> plan -> closure -> link -> emit input.

The target (targets/registry.py picks it) says what the tree holds; the engine computes the include
closure, the link closure and the emitted tree; nothing here knows one upstream from another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from vendor_slim.adapters.gitinfo import git_info, gitlink
from vendor_slim.app.settings import Settings
from vendor_slim.engine.closure import compute_closure, merge_closures
from vendor_slim.engine.link import link_closure
from vendor_slim.errors import BadInput
from vendor_slim.layout import STUB_DIR
from vendor_slim.models import (
    ClosureReport,
    EmitInput,
    LinkResult,
    SourceTree,
    TranslationUnit,
    Upstream,
    lang_of,
)
from vendor_slim.targets import registry
from vendor_slim.targets.base import BuildPlan, EmitFacts, Kernels, Options, Target


@dataclass(frozen=True)
class Loaded:
    """The target chosen for the tree, and the tree as one of its layouts."""

    target: Target
    src: SourceTree
    options: Options


@dataclass(frozen=True)
class Built:
    """The analysed target: its TUs, their include closure and link closure, ready to emit."""

    target: Target
    src: SourceTree
    kernels: Kernels
    plan: BuildPlan
    tus: tuple[TranslationUnit, ...]  # the plan's TUs and the link-closure sources
    link: LinkResult
    closure: ClosureReport
    facts: EmitFacts


def load(settings: Settings) -> Loaded:
    options = settings.options()
    target = registry.for_tree(settings.tree, settings.target)
    return Loaded(target, target.detect(settings.tree, options), options)


def kernels(settings: Settings, loaded: Loaded | None = None) -> Kernels:
    ld = loaded or load(settings)
    return ld.target.kernels(ld.src, ld.options, settings.cache)


def build(settings: Settings, loaded: Loaded | None = None) -> Built:
    """Kernels, the target's plan, include closure, link closure (to a fixed point), closure of the link sources."""
    ld = loaded or load(settings)
    src, cache = ld.src, settings.cache
    kern = ld.target.kernels(src, ld.options, cache)
    plan = ld.target.plan(src, kern, ld.options, cache)
    closure_cache = cache / "closure"
    # a missing header stops here, before the link closure
    closure = compute_closure(plan.tus, src.roots, jobs=settings.jobs, cache_dir=closure_cache)
    if plan.deferred:
        raise BadInput(plan.deferred)
    link = link_closure(plan.link_seeds, src.roots, src.code_root, plan.spec, cache / "symbols",
                        exclude=plan.link_exclude)
    link_tus = tuple(TranslationUnit(p, "link", lang_of(p), plan.spec) for p in link.sources)
    if link_tus:  # only the new TUs are analysed: the plan's are in `closure` already
        closure = merge_closures(closure, compute_closure(link_tus, src.roots, jobs=settings.jobs,
                                                          cache_dir=closure_cache))
    facts = ld.target.emit_facts(src, kern, plan, ld.options)
    return Built(ld.target, src, kern, plan, (*plan.tus, *link_tus), link, closure, facts)


# Which CMake target provides the functions declared in a CUDA toolkit header.
_CUDA_LIBS = {"cuda_runtime_api.h": "CUDA::cudart", "cuda_runtime.h": "CUDA::cudart", "cuda.h": "CUDA::cuda_driver",
              "cublasLt.h": "CUDA::cublasLt", "cublas_api.h": "CUDA::cublas", "cublas_v2.h": "CUDA::cublas"}


def shown_path(b: Built, p: str | Path) -> str:
    """A file as a user knows it: a tool-written one by its path in the emitted tree (never the cache's
    staging folder), an upstream one relative to its checkout, anything else as it is."""
    path = Path(p)
    for base, prefix in ((b.plan.staging, ""), (b.src.path, ""), (b.src.roots.cutlass, "CUTLASS:")):
        if path == base or base in path.parents:
            return prefix + path.relative_to(base).as_posix()
    return str(path)


def public_remote(remote: str | None) -> str | None:
    """A remote worth recording: a URL (scheme:// or user@host:path); a local path is a machine path."""
    if remote and (("://" in remote and not remote.startswith("file:"))
                   or re.match(r"^[\w.-]+@[\w.-]+:", remote)):
        return remote
    return None


def emit_input(b: Built) -> EmitInput:
    """Map the analysed target onto what the emitted tree holds."""
    roots = b.src.roots
    staging = b.plan.staging
    vendored = sorted(((roots.classify(p) or ""), p) for p in b.closure.union if staging not in p.parents)
    stray = [str(p) for name, p in vendored if name == ""]
    if stray:
        raise BadInput(f"internal: closure files outside the upstream roots: {', '.join(stray[:3])}")
    # cudart always; the driver library for cuTensorMapEncodeTiled, which CUTLASS reaches through a
    # dependent call the symbol walk cannot follow; the rest only where a TU reaches a function of it
    libs = ["CUDA::cudart", "CUDA::cuda_driver"]
    for header in b.link.external:
        lib = _CUDA_LIBS.get(header)
        if lib and lib not in libs:
            libs.append(lib)
    libs += [lib for lib in b.plan.link_libraries if lib not in libs]
    upstreams = []
    for name, root, repo in (("trtllm", roots.trtllm, b.src.path), ("cutlass", roots.cutlass, roots.cutlass)):
        g = git_info(repo)
        pinned = gitlink(b.src.path, repo) if name == "cutlass" else None
        upstreams.append(Upstream(name, root, repo, b.src.layout if name == "trtllm" else None,
                                  public_remote(g.remote), g.commit, g.dirty, pinned))
    # a stub is emitted only where a compile reads it: the rules may declare stubs other trees need
    read = {p for c in b.closure.tus for p in (*c.files, *c.external)}
    stubs_read = {f for f in b.plan.files if f.role == "stub" and staging / f.path in read}
    f = b.facts
    external = set(b.plan.external_dirs)
    return EmitInput(
        name=f.name, library=f.library, upstreams=tuple(upstreams),
        vendored=tuple(vendored), tool_files=tuple(t for t in b.plan.files if t.role != "stub" or t in stubs_read),
        staging=staging, tus=b.tus,
        include_dirs=tuple(d for d in b.plan.spec.include_dirs
                           if (d != staging / STUB_DIR or stubs_read) and d not in external),
        defines=b.plan.spec.defines, std=b.plan.spec.std, cuda_arch=b.plan.spec.cuda_arch,
        cuda_flags=f.cuda_flags, link_libraries=tuple(libs),
        test_sources=f.test_sources, test_libraries=f.test_libraries,
        public_headers=f.public_headers, kernels=b.plan.kernels, kernel_tus=b.plan.kernel_tus,
        link_sources=b.link.pulled_by, quant_ops=f.variants, rules_path=f.rules_path,
        rules_sha256=f.rules_sha256, generator_path=f.generator_path, generator_args=f.generator_args,
        api_namespace=f.api_namespace, gemv=b.plan.recipes, cmake_packages=b.plan.cmake_packages,
        check_probes=b.plan.check_probes,
    )


def forbidden_outputs(settings: Settings, src: SourceTree) -> list[Path]:
    """Folders --out must stay out of: the trees as given and as resolved (a CUTLASS link may point elsewhere)."""
    given = [settings.tree, *([settings.cutlass] if settings.cutlass else [])]
    return [*given, src.roots.trtllm, src.roots.cutlass]


__all__ = ["Built", "Loaded", "build", "emit_input", "forbidden_outputs", "kernels", "load", "public_remote"]
