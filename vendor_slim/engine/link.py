"""Link closure: the non-header sources that define what the target's TUs use but do not define.

Starting from the target's TUs, every function and variable that a TU reaches but does not define
(and that an in-tree header declares) is looked up among the tree's own .cpp/.cu/.cc files: those
whose text could define it are parsed, most likely first (same stem as the declaring header, then
the nearest directory), until one defines it; that source joins the set, and its own uses are
followed, to a fixed point. Nothing is taken from a list: a source that defines only symbols nobody
reaches (TensorRT-LLM's `assert.cpp`) is never chosen.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from vendor_slim import __version__
from vendor_slim.adapters import nvcc
from vendor_slim.adapters.cache import HashMemo, code_version, hash_memo, load_entry, store_entry
from vendor_slim.adapters.libclang import libclang_version
from vendor_slim.adapters.libclang.sema import cuda_host_args
from vendor_slim.adapters.libclang.symbols import SymbolFacts, SymbolUse, symbol_facts
from vendor_slim.adapters.progress import Stage, stage
from vendor_slim.errors import ExternalToolError
from vendor_slim.models import CompileSpec, Lang, LinkResult, Roots, SymbolJob

SOURCE_SUFFIXES = (".cpp", ".cc", ".cxx", ".cu")
MAX_CANDIDATES = 24  # parses per symbol before it is reported as not found
CACHE_FORMAT = 2
_CODE = (__name__, "vendor_slim.adapters.libclang.symbols")


def parse_args(spec: CompileSpec, lang: Lang) -> list[str]:
    """libclang arguments for a semantic parse: clang's CUDA host mode for `cu`, C++ for `cxx`."""
    if lang == "cu":
        base = cuda_host_args(spec.std, spec.cuda_arch)
    else:
        base = ["-x", "c++", f"-std={spec.std}", "-Wno-everything", "-ferror-limit=0"]
    return [*base, *spec.preprocessor_args("cxx" if lang == "cxx" else "cu",
                                           nvcc.cuda_include_dir() if lang == "cxx" else None)]


def _ident(job: SymbolJob, roots: Roots) -> dict[str, Any]:
    return {"f": CACHE_FORMAT, "v": __version__, "code": code_version(*_CODE), "clang": libclang_version(),
            "src": str(job.source), "args": parse_args(job.spec, job.lang), "contents": job.contents,
            "inst": job.instantiated, "ov": job.overlays, "roots": [str(roots.trtllm), str(roots.cutlass)]}


def _facts(job: SymbolJob, roots: Roots, cache: Path) -> SymbolFacts:
    args = parse_args(job.spec, job.lang)
    ident = json.dumps(_ident(job, roots), sort_keys=True)
    path = cache / f"{hashlib.sha256(ident.encode()).hexdigest()}.json"
    memo = hash_memo(cache.parent)
    hit = _load(path, memo)
    if hit is not None:
        return hit
    trtllm = os.path.realpath(roots.trtllm) + os.sep
    cutlass = os.path.realpath(roots.cutlass) + os.sep

    def follow(p: str) -> bool:
        r = os.path.realpath(p)
        return r.startswith(trtllm) and not r.startswith(cutlass)

    def in_tree(p: str) -> bool:
        r = os.path.realpath(p)
        return r.startswith(trtllm) or r.startswith(cutlass)

    try:
        facts = symbol_facts(job.source, args, contents=job.contents, overlays=job.overlays,
                             instantiated=job.instantiated, walk_into=follow, in_tree=in_tree)
    except Exception as exc:  # libclang reports a failed parse as a bare exception
        raise ExternalToolError(f"libclang could not parse {job.source}",
                                command=["libclang", *args, str(job.source)], returncode=1,
                                output=str(exc)) from exc
    _store(path, facts, job.source if job.contents is not None else None, memo)
    return facts


def _load(path: Path, memo: HashMemo) -> SymbolFacts | None:
    entry = load_entry(path, memo)
    if entry is None:
        return None
    d: Any = entry["facts"]
    return SymbolFacts(tuple(d["defines"]), tuple(SymbolUse(*u) for u in d["uses"]), tuple(d["files"]),
                       tuple(d["external"]))


def _store(path: Path, facts: SymbolFacts, replaced: Path | None, memo: HashMemo) -> None:
    hashes = {f: memo.digest(f) for f in facts.files if replaced is None or f != str(replaced)}
    if any(h is None for h in hashes.values()):
        return
    store_entry(path, {"hashes": hashes, "facts": {
        "defines": list(facts.defines), "files": list(facts.files), "external": list(facts.external),
        "uses": [[u.key, u.name, u.spelling, u.parent, u.declared_in] for u in facts.uses]}}, memo)


class _SourceIndex:
    """The tree's non-header sources, read lazily, for finding where a symbol may be defined."""

    def __init__(self, root: Path, exclude: Iterable[Path]) -> None:
        skip = {os.path.realpath(p) for p in exclude}
        names = {os.path.basename(p) for p in skip}  # realpath only where the name could match (it is slow)
        self.paths = sorted(
            Path(dp) / f
            for dp, dirs, files in os.walk(root)
            for f in files
            if f.endswith(SOURCE_SUFFIXES) and not (f in names and os.path.realpath(os.path.join(dp, f)) in skip)
        )
        self._text: dict[Path, str] = {}
        self.unreadable: list[Path] = []

    def text(self, p: Path) -> str:
        if p not in self._text:
            try:
                self._text[p] = p.read_text(errors="replace")
            except OSError:
                self._text[p] = ""
                self.unreadable.append(p)
        return self._text[p]

    def candidates(self, use: SymbolUse) -> list[Path]:
        name = re.escape(use.spelling)
        if use.parent:
            pat = re.compile(rf"\b{re.escape(use.parent)}\s*::\s*~?{name}\b")
        else:
            pat = re.compile(rf"\b{name}\s*[(<]")
        hits = [p for p in self.paths if use.spelling in self.text(p) and pat.search(self.text(p))]
        decl = Path(use.declared_in)
        return sorted(hits, key=lambda p: (p.stem.lower() != decl.stem.lower(), -_shared_dirs(p, decl),
                                           len(p.parts), str(p)))


def _shared_dirs(a: Path, b: Path) -> int:
    """How many trailing directory names two files' folders share (include/x/common vs x/common: 2)."""
    n = 0
    for x, y in zip(reversed(a.parent.parts), reversed(b.parent.parts), strict=False):
        if x != y:
            break
        n += 1
    return n


def link_closure(jobs: Sequence[SymbolJob], roots: Roots, search_root: Path, spec: CompileSpec,
                 cache: Path, exclude: Sequence[Path] = ()) -> LinkResult:
    """The fixed point: sources under SEARCH_ROOT that define what JOBS (and they in turn) use.

    The result is cached under CACHE keyed by the jobs, the roots and the tool's code, and reused while
    the search root holds the same sources and every file read (parsed or scanned) hashes the same."""
    memo = hash_memo(cache.parent)
    index = _SourceIndex(search_root, [*exclude, *(j.source for j in jobs)])
    ident = {"jobs": [_ident(j, roots) for j in jobs], "search": str(search_root), "spec": repr(spec),
             "exclude": sorted(str(p) for p in exclude), "max": MAX_CANDIDATES}
    path = cache / "closure" / f"{hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()}.json"
    entry = load_entry(path, memo)
    if entry is not None and entry.get("index") == [str(p) for p in index.paths]:
        r: Any = entry["result"]
        return LinkResult(tuple(Path(p) for p in r["sources"]),
                          tuple((Path(p), tuple(n)) for p, n in r["pulled_by"]), tuple(r["unresolved"]),
                          tuple(r["external"]), int(r["parsed"]))
    with stage("link closure (libclang symbol walk)") as st:
        result, facts = _link_closure(jobs, roots, spec, cache, index, st)
        st.note = f"{len(result.sources)} sources, {result.parsed} candidates parsed"
    files = {f for fa in facts.values() for f in fa.files} | {str(p) for p in index.paths}
    hashes = {f: memo.digest(f) for f in sorted(files)}
    if not result.unresolved and all(h is not None for h in hashes.values()):
        store_entry(path, {"hashes": hashes, "index": [str(p) for p in index.paths], "result": {
            "sources": [str(p) for p in result.sources], "unresolved": list(result.unresolved),
            "pulled_by": [[str(p), list(n)] for p, n in result.pulled_by], "external": list(result.external),
            "parsed": result.parsed}}, memo)
    return result


def _link_closure(jobs: Sequence[SymbolJob], roots: Roots, spec: CompileSpec, cache: Path,
                  index: _SourceIndex, st: Stage) -> tuple[LinkResult, dict[Path, SymbolFacts]]:
    facts: dict[Path, SymbolFacts] = {}
    for job in jobs:
        facts[job.source] = _facts(job, roots, cache)
        st.advance(item=job.source.name)
    defined = {k for f in facts.values() for k in f.defines}
    chosen: list[Path] = []
    unresolved: dict[str, str] = {}
    tried: set[Path] = set()
    parsed = 0
    pending = [(u, src) for src, f in facts.items() for u in f.uses]
    while pending:
        use, user = pending.pop(0)
        if use.key in defined or use.key in unresolved:
            continue
        found = None
        for cand in index.candidates(use)[:MAX_CANDIDATES]:
            if cand in facts:
                continue
            lang: Lang = "cu" if cand.suffix == ".cu" else "cxx"
            cf = _facts(SymbolJob(cand, lang, spec), roots, cache)
            st.advance(item=f"{cand.name} (for {use.name})")
            parsed += cand not in tried
            tried.add(cand)
            if use.key in cf.defines:
                found = cand
                facts[cand] = cf
                break
        if found is None:
            why = f"{use.name} (declared in {use.declared_in}; used by {user})"
            if index.unreadable:  # the definition may be in a source that could not be read
                why += f"; {len(index.unreadable)} source(s) could not be read, e.g. {index.unreadable[0]}"
            unresolved[use.key] = why
            continue
        chosen.append(found)
        defined |= set(facts[found].defines)
        pending += [(u, found) for u in facts[found].uses]
    used = {u.key: u.name for f in facts.values() for u in f.uses}
    return LinkResult(
        sources=tuple(chosen),
        pulled_by=tuple((p, tuple(sorted({used[k] for k in facts[p].defines if k in used}))) for p in chosen),
        unresolved=tuple(sorted(unresolved.values())),
        external=tuple(sorted({h for f in facts.values() for h in f.external})),
        parsed=parsed,
    ), facts

