"""The include closure of each TU: every file the real compiler reads, with who includes whom.

Each TU is parsed by libclang once per nvcc pass (host and device for `cu`, one host pass for
`cxx`), replaying the real compiler's macros and search path (see adapters/libclang/includes.py),
and the passes are unioned, as `nvcc -M` unions them. Three things keep it fast:
- TUs whose text before the first non-#include token is the same (the generated launcher files)
  and whose arguments are the same are one job: their preamble is parsed once;
- jobs and passes run in parallel in a process pool (libclang parses are CPU-bound);
- results are cached in `cache_dir`, keyed by the arguments and the preamble or source path, and
  valid while every recorded file still has its recorded sha256. Results with unresolved includes
  are not cached (the missing file may appear).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import networkx as nx

from vendor_slim import __version__
from vendor_slim.adapters import nvcc
from vendor_slim.adapters.cache import HashMemo, code_version, hash_memo
from vendor_slim.adapters.clock import Clock, monotonic
from vendor_slim.adapters.fs import atomic_write_text, normalized
from vendor_slim.adapters.libclang import includes, libclang_version
from vendor_slim.adapters.libclang.includes import IncludeEdge, IncludeResult, UnresolvedInclude
from vendor_slim.adapters.pool import run_calls
from vendor_slim.adapters.progress import stage
from vendor_slim.errors import BadInput, CheckFailed, ExternalToolError
from vendor_slim.models import (
    ClosureReport,
    ClosureStats,
    Roots,
    TranslationUnit,
    TUClosure,
)

CACHE_FORMAT = 1


# ---------------------------------------------------------------------------------------------
# Preambles


_DIRECTIVE_INCLUDE = re.compile(r"^[ \t]*#[ \t]*(?:include|include_next|import)\b", re.M)
_INCLUDE_AT = re.compile(r"#[ \t]*(?:include|include_next|import)\b")


def split_preamble(text: str) -> tuple[str, str]:
    """(preamble, rest): the text up to the first token that is neither a comment nor an #include line."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n\f\v":
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == "#" and _INCLUDE_AT.match(text, i):
            # the whole directive line, with backslash continuations
            while True:
                j = text.find("\n", i)
                if j < 0:
                    i = n
                    break
                if text[j - 1] == "\\" or text[j - 2 : j] == "\\\r":
                    i = j + 1
                    continue
                i = j + 1
                break
        else:
            break
    # blank lines before the first other token are not part of the preamble's identity
    end = len(text[:i].rstrip())
    nl = text.find("\n", end, i)
    cut = i if nl < 0 else nl + 1
    return text[:cut], text[cut:]


def shareable_preamble(text: str) -> str | None:
    """The preamble when the rest of the file includes nothing (so the preamble decides the closure)."""
    pre, rest = split_preamble(text)
    if not _DIRECTIVE_INCLUDE.search(pre) or _DIRECTIVE_INCLUDE.search(rest):
        return None
    return pre


# ---------------------------------------------------------------------------------------------
# Jobs


@dataclass(frozen=True)
class _Job:
    key: str
    source: Path  # the TU parsed (the first of its group)
    contents: str | None  # the preamble when shared, else None (the file as it is)
    pass_args: tuple[tuple[str, tuple[str, ...]], ...]  # (pass name, libclang args)


def _contract_args(tu: TranslationUnit) -> list[str]:
    cuda_inc = nvcc.cuda_include_dir() if tu.lang == "cxx" else None
    return tu.spec.preprocessor_args(tu.lang, cuda_inc)


def _plan(tus: Sequence[TranslationUnit]) -> tuple[list[_Job], list[tuple[_Job, list[str]]]]:
    """Group TUs into parse jobs; returns the jobs and, per TU, its job and contract args."""
    jobs: dict[str, _Job] = {}
    per_tu: list[tuple[_Job, list[str]]] = []
    lib = libclang_version()
    for tu in tus:
        src = normalized(tu.source)
        if not src.is_file():
            raise BadInput(f"translation unit {src} does not exist")
        args = _contract_args(tu)
        passes = nvcc.passes(tu.lang, args, src)
        pass_args = tuple((p.name, tuple(includes.clang_args(p))) for p in passes)
        try:
            text = src.read_text(errors="surrogateescape")
        except OSError as exc:
            raise BadInput(f"translation unit {src} cannot be read: {exc.strerror}") from exc
        pre = shareable_preamble(text)
        ident: dict[str, Any] = {
            "format": CACHE_FORMAT, "tool": __version__, "libclang": lib, "lang": tu.lang,
            "passes": pass_args,
        }
        if pre is not None:
            # quoted includes resolve from the TU's directory, so it is part of the identity
            ident.update(mode="preamble", dir=str(src.parent), preamble=pre)
        else:
            ident.update(mode="file", source=str(src))
        key = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()
        job = jobs.get(key)
        if job is None:
            job = jobs[key] = _Job(key, src, pre, pass_args)
        per_tu.append((job, args))
    return list(jobs.values()), per_tu


def _parse_pass(source: Path, args: tuple[str, ...], contents: str | None) -> IncludeResult:
    """One libclang parse (runs in a worker process)."""
    try:
        return includes.parse_includes(source, args, contents=contents)
    except Exception as exc:  # libclang reports a failed parse as a bare exception
        if isinstance(exc, (BadInput, ExternalToolError)):
            raise
        raise ExternalToolError(
            f"libclang could not parse {source}", command=["libclang", *args, str(source)],
            returncode=1, output=str(exc),
        ) from exc


# ---------------------------------------------------------------------------------------------
# Cache


class _Hasher:
    def __init__(self, memo: HashMemo) -> None:
        self._memo = memo

    def __call__(self, path: Path | str) -> str | None:
        return self._memo.digest(path)


def _to_json(result: IncludeResult) -> dict[str, Any]:
    return {
        "files": [str(f) for f in result.files],
        "edges": [[str(e.includer), str(e.included), e.line] for e in result.edges],
        "unresolved": [[None if u.includer is None else str(u.includer), u.line, u.spelling, u.reason]
                       for u in result.unresolved],
    }


def _from_json(data: dict[str, Any]) -> IncludeResult:
    return IncludeResult(
        files=tuple(Path(f) for f in data["files"]),
        edges=tuple(IncludeEdge(Path(a), Path(b), int(n)) for a, b, n in data["edges"]),
        unresolved=tuple(UnresolvedInclude(None if u[0] is None else Path(u[0]), int(u[1]), u[2],
                                           u[3] if len(u) > 3 else "")
                         for u in data["unresolved"]),
    )


def _cache_load(cache_dir: Path, job: _Job, hasher: _Hasher) -> IncludeResult | None:
    path = cache_dir / f"{job.key}.json"
    try:
        entry = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if entry.get("key") != job.key:
        return None
    for f, digest in entry.get("hashes", {}).items():
        if hasher(Path(f)) != digest:
            return None
    result = _from_json(entry["result"])
    first = Path(entry.get("source", ""))
    if first != job.source:
        if job.contents is None:
            return None
        # a shared job may have been stored by another TU of its group: it stands for all of them
        result = _rename(result, first, job.source)
    return result


def _rename(result: IncludeResult, old: Path, new: Path) -> IncludeResult:
    def r(p: Path) -> Path:
        return new if p == old else p

    return includes.union([IncludeResult(
        files=tuple(r(f) for f in result.files),
        edges=tuple(IncludeEdge(r(e.includer), r(e.included), e.line) for e in result.edges),
        unresolved=tuple(UnresolvedInclude(None if u.includer is None else r(u.includer), u.line, u.spelling,
                                           u.reason)
                         for u in result.unresolved),
    )])


def _cache_store(cache_dir: Path, job: _Job, result: IncludeResult, hasher: _Hasher) -> None:
    if result.unresolved:
        return
    hashes: dict[str, str] = {}
    for f in result.files:
        if job.contents is not None and f == job.source:
            continue  # a shared job is keyed by the preamble text, not by its first file
        digest = hasher(f)
        if digest is None:
            return
        hashes[str(f)] = digest
    entry = {"key": job.key, "source": str(job.source), "hashes": hashes, "result": _to_json(result)}
    cache_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(cache_dir / f"{job.key}.json", json.dumps(entry))
    hasher._memo.flush()


# ---------------------------------------------------------------------------------------------
# The stage


def compute_closure(
    tus: Sequence[TranslationUnit], roots: Roots, *, jobs: int, cache_dir: Path, clock: Clock = monotonic
) -> ClosureReport:
    """The include closure of every TU (per TU and in union) with its include graphs.

    Raises BadInput when an in-tree file includes a header that does not exist, naming the header
    and the include chain from the TU to it.
    """
    start = clock()
    planned, per_tu = _plan(tus)
    hasher = _Hasher(hash_memo(cache_dir))
    # the whole report (graphs included) is kept too: building it costs more than the parses' cached
    # results take to load, and it is valid while every file of every job hashes the same
    ident = {"format": CACHE_FORMAT, "code": code_version(__name__), "jobs": [j.key for j, _a in per_tu],
             "tus": [[str(normalized(t.source)), t.role, t.lang] for t in tus],
             "roots": [str(roots.trtllm), str(roots.cutlass)]}
    report_path = cache_dir / "reports" / f"{hashlib.sha256(json.dumps(ident).encode()).hexdigest()}.pickle"
    hit = _report_load(report_path, hasher)
    if hit is not None:
        return replace(hit, stats=replace(hit.stats, parses=0, cache_hits=len(planned),
                                          seconds=clock() - start))
    results: dict[str, IncludeResult] = {}
    todo: list[_Job] = []
    for job in planned:
        cached = _cache_load(cache_dir, job, hasher)
        if cached is None:
            todo.append(job)
        else:
            results[job.key] = cached
    hits = len(planned) - len(todo)
    tasks = [(job, name, args) for job in todo for name, args in job.pass_args]
    per_pass: dict[str, list[IncludeResult]] = {job.key: [] for job in todo}
    if tasks:
        with stage("include closure (libclang parses)", total=len(tasks)) as st:
            st.note = f"{hits} of {len(planned)} jobs from cache"
            calls = [(job.source, a, job.contents) for job, _name, a in tasks]
            for i, result in run_calls(_parse_pass, calls, jobs):
                per_pass[tasks[i][0].key].append(result)
                st.advance(item=f"{tasks[i][0].source.name} ({tasks[i][1]})")
    for job in todo:
        fresh = includes.union(per_pass[job.key])
        results[job.key] = fresh
        _cache_store(cache_dir, job, fresh, hasher)

    closures: list[TUClosure] = []
    graphs: list[Any] = []
    cls = _Classifier(roots)
    for tu, (job, tu_args) in zip(tus, per_tu, strict=True):
        closure, graph = _tu_closure(tu, tu_args, job, results[job.key], cls)
        closures.append(closure)
        graphs.append(graph)
    union_graph: Any = nx.DiGraph()
    for g in graphs:
        union_graph.update(g)
    union_files = sorted({f for c in closures for f in c.files})
    stats = ClosureStats(
        parses=len(tasks), jobs=len(planned), cache_hits=hits,
        shared_tus=len(tus) - len({job.key for job, _a in per_tu}) if tus else 0,
        seconds=clock() - start,
    )
    report = ClosureReport(roots=roots, tus=tuple(closures), union=tuple(union_files),
                           graphs=tuple(graphs), graph=union_graph, stats=stats)
    hashes = {str(f): hasher(f) for r in results.values() for f in r.files}
    if not any(r.unresolved for r in results.values()) and all(h is not None for h in hashes.values()):
        _report_store(report_path, hashes, report)
    return report


class _PathPickler(pickle.Pickler):
    """Paths as persistent ids: unpickling builds each distinct path once (the edges repeat them)."""

    def persistent_id(self, obj: Any) -> str | None:
        return str(obj) if type(obj) is type(Path()) else None


class _PathUnpickler(pickle.Unpickler):
    def __init__(self, fh: Any) -> None:
        super().__init__(fh)
        self._paths: dict[str, Path] = {}

    def persistent_load(self, pid: Any) -> Path:
        p = self._paths.get(pid)
        if p is None:
            p = self._paths[pid] = Path(pid)
        return p


def _report_load(path: Path, hasher: _Hasher) -> ClosureReport | None:
    try:
        with path.open("rb") as fh:
            entry = _PathUnpickler(fh).load()
        if all(hasher(f) == h for f, h in entry["hashes"].items()):
            report = entry["report"]
            return report if isinstance(report, ClosureReport) else None
    except Exception:  # a missing, stale or foreign pickle is a miss, never an error
        return None
    return None


def _report_store(path: Path, hashes: dict[str, str | None], report: ClosureReport) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pickle")
    try:
        with os.fdopen(fd, "wb") as fh:
            _PathPickler(fh, protocol=pickle.HIGHEST_PROTOCOL).dump({"hashes": hashes, "report": report})
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def merge_closures(a: ClosureReport, b: ClosureReport) -> ClosureReport:
    """One report for A's TUs then B's (same roots), as if computed together."""
    graph: Any = nx.DiGraph()
    for g in (*a.graphs, *b.graphs):
        graph.update(g)
    stats = ClosureStats(parses=a.stats.parses + b.stats.parses, jobs=a.stats.jobs + b.stats.jobs,
                         cache_hits=a.stats.cache_hits + b.stats.cache_hits,
                         shared_tus=a.stats.shared_tus + b.stats.shared_tus,
                         seconds=a.stats.seconds + b.stats.seconds)
    return ClosureReport(roots=a.roots, tus=(*a.tus, *b.tus), union=tuple(sorted({*a.union, *b.union})),
                         graphs=(*a.graphs, *b.graphs), graph=graph, stats=stats)


class _Classifier:
    """Roots.classify with the roots resolved once and every answer memoised (it is asked ~10^4 times)."""

    def __init__(self, roots: Roots) -> None:
        self._roots = sorted(
            ((name, os.path.realpath(r) + os.sep) for name, r in (("cutlass", roots.cutlass),
                                                                  ("trtllm", roots.trtllm))),
            key=lambda item: -len(item[1]),
        )
        self._lexical = [os.path.normpath(os.path.abspath(r)) + os.sep for r in (roots.cutlass, roots.trtllm)]
        self._memo: dict[Path, tuple[str | None, Path]] = {}

    def escapes(self, p: Path) -> bool:
        """A path inside a root whose real file lies outside every root (a symbolic link out)."""
        return self.root(p) is None and any((str(p) + os.sep).startswith(r) for r in self._lexical)

    def _lookup(self, p: Path) -> tuple[str | None, Path]:
        hit = self._memo.get(p)
        if hit is None:
            real = os.path.realpath(p)
            root = next((name for name, r in self._roots if (real + os.sep).startswith(r)), None)
            hit = self._memo[p] = (root, Path(real))
        return hit

    def root(self, p: Path) -> str | None:
        return self._lookup(p)[0]

    def canon(self, p: Path) -> Path:
        """In-tree files keep the spelling the -I dirs give them; external ones are canonicalised
        (gcc prints some CUDA headers through their real path, some through the symlink)."""
        root, real = self._lookup(p)
        return p if root is not None else real


def _tu_closure(
    tu: TranslationUnit, args: list[str], job: _Job, result: IncludeResult, cls: _Classifier
) -> tuple[TUClosure, Any]:
    src = normalized(tu.source)

    def canon(p: Path) -> Path:
        return src if p == job.source else cls.canon(p)  # a shared job's first TU stands for this one

    root_of = cls.root

    graph: Any = nx.DiGraph()
    files = {canon(f) for f in result.files}
    for f in files:
        r = root_of(f)
        graph.add_node(str(f), root=r, kind="in-tree" if (r is not None or f == src) else "external",
                       tu=f == src)
    for e in result.edges:
        a, b = str(canon(e.includer)), str(canon(e.included))
        if graph.has_edge(a, b):
            graph[a][b]["line"] = min(graph[a][b]["line"], e.line)
        else:
            graph.add_edge(a, b, line=e.line)
    missing_in_tree: list[tuple[UnresolvedInclude, Path]] = []
    for u in result.unresolved:
        includer = canon(u.includer) if u.includer is not None else src
        node = u.spelling
        if node not in graph:
            graph.add_node(node, root=None, kind="unresolved", tu=False)
        graph.add_edge(str(includer), node, line=u.line)
        if includer == src or root_of(includer) is not None:
            missing_in_tree.append((u, includer))
    if missing_in_tree:
        # a plain "not found" first: it is the usual case and often the cause of the others
        missing_in_tree.sort(key=lambda m: m[0].reason != "")
        u, includer = missing_in_tree[0]
        try:
            chain = [str(p) for p in nx.shortest_path(graph, str(src), str(includer))]
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            chain = [str(src), str(includer)]
        more = f" ({len(missing_in_tree) - 1} more missing)" if len(missing_in_tree) > 1 else ""
        raise BadInput(_unresolved_message(src, u, includer, graph) + more,
                       chain=[*chain, f"{u.spelling} ({u.reason.split(':', 1)[0] or 'not found'})"])
    for f in result.files:
        if cls.escapes(f):
            try:
                chain = [*[str(p) for p in nx.shortest_path(graph, str(src), str(canon(f)))][:-1], str(f)]
            except (nx.NetworkXNoPath, nx.NodeNotFound):
                chain = [str(src), str(f)]
            raise BadInput(f"{f} is a symbolic link to {os.path.realpath(f)}, outside the source roots; "
                           "refusing to vendor it", chain=chain)
    in_tree = sorted(f for f in files if f == src or root_of(f) is not None)
    external = sorted(f for f in files if f != src and root_of(f) is None)
    edges = tuple(sorted(
        ((Path(a), Path(b), int(d["line"])) for a, b, d in graph.edges(data=True)
         if graph.nodes[b]["kind"] != "unresolved"),
        key=lambda t: (str(t[0]), t[2], str(t[1])),
    ))
    closure = TUClosure(
        source=src, role=tu.role, lang=tu.lang, args=tuple(args), files=tuple(in_tree),
        external=tuple(external), unresolved=tuple(sorted({u.spelling for u in result.unresolved})),
        edges=edges,
    )
    return closure, graph


def _unresolved_message(src: Path, u: UnresolvedInclude, includer: Path, graph: Any) -> str:
    where = f"{src}: header '{u.spelling}' included at {includer}:{u.line}"
    kind, _, detail = u.reason.partition(": ")
    if kind == "unreadable":
        return f"{where} cannot be read: {detail}"
    if kind == "not a header name":
        return (f"{where} does not name a header: the #include's macro expands to neither \"FILE\" nor "
                f"<FILE> ({detail})")
    if kind == "nested too deeply":
        cycle = ""
        try:
            edges = nx.find_cycle(graph, str(includer))
            cycle = ": " + " -> ".join([*(a for a, _b in edges), edges[0][0]])
        except nx.NetworkXNoCycle:
            pass
        return (f"{where} is nested too deeply: an include cycle without include guards or "
                f"#pragma once{cycle}")
    return f"{where} does not exist in the tree or on the include path"


# ---------------------------------------------------------------------------------------------
# Queries and exports


def oracle_diff(tu: TranslationUnit, closure: TUClosure, roots: Roots) -> tuple[list[Path], list[Path]]:
    """(missing, extra): in-tree files the real compiler reads that the closure lacks, and the reverse.

    The oracle is the contract's command: `nvcc -M ...` for `cu`, `c++ -M ...` for `cxx`.
    """
    src = normalized(tu.source)
    deps = nvcc.oracle_dependencies(tu.lang, list(closure.args), src)
    cls = _Classifier(roots)
    want = {Path(os.path.realpath(d)): d for d in deps if d == src or cls.root(d) is not None}
    want.setdefault(Path(os.path.realpath(src)), src)
    have = {Path(os.path.realpath(f)): f for f in closure.files}
    missing = sorted(want[k] for k in want.keys() - have.keys())
    extra = sorted(have[k] for k in have.keys() - want.keys())
    return missing, extra


def why(report: ClosureReport, file: Path) -> list[Path]:
    """The shortest include chain from any TU of the report to FILE (TU first, FILE last)."""
    matches = why_all(report, file)
    return [Path(n) for n, _line in matches[0][1]]


def why_all(report: ClosureReport, file: Path) -> list[tuple[str, list[tuple[str, int | None]]]]:
    """Every file of the graph FILE names (a relative name may match several) with its shortest chain
    from a TU: (node, line of the #include in the previous node; None for the TU), TU first.

    Raises CheckFailed when no TU reads a file of that name."""
    graph = report.graph
    targets = _match_nodes(graph, file)
    if not targets:
        raise CheckFailed(f"{file} is not read by any TU of the target")
    best: dict[str, list[str]] = {}
    for tu in report.tus:
        start = str(tu.source)
        if start not in graph:
            continue
        paths = nx.single_source_shortest_path(graph, start)
        for t in targets:
            if t in paths and (t not in best or len(paths[t]) < len(best[t])):
                best[t] = paths[t]
    if not best:
        raise CheckFailed(f"{file} is in the include graph but no TU of the target reaches it")
    out = []
    for t in sorted(best, key=lambda n: (len(best[n]), n)):
        chain = best[t]
        out.append((t, [(n, None if k == 0 else int(graph[chain[k - 1]][n]["line"])) for k, n in enumerate(chain)]))
    return out


def _match_nodes(graph: Any, file: Path) -> list[str]:
    nodes: set[str] = {n for n, d in graph.nodes(data=True) if d.get("kind") != "unresolved"}
    for cand in (str(normalized(file)), os.path.realpath(file), str(file)):
        if cand in nodes:
            return [cand]
    if not file.is_absolute():
        suffix = "/" + file.as_posix().lstrip("./")
        return sorted(n for n in nodes if n.endswith(suffix))
    return []


