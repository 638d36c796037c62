"""Which launcher instantiations the runner really references, found by letting clang instantiate it.

The probe TU holds the generated files' headers, a stand-in definition of the launcher template whose
body names `vs_hit<ID>` (ID: the generated instantiation with the same template arguments, decided by
clang's own type identity) or `vs_miss<ARGS...>` (no generated instantiation has them), and then the
runner TU(s) with their explicit instantiation of the runner class. Both helper templates are left
undefined, so every launcher specialization the runner's code reaches produces one diagnostic that
names it; code paths pruned by `if constexpr` produce none. Nothing is compiled to an object, so a tree
with a missing header (C1) can still be analysed: clang keeps going where nvcc stops.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from vendor_slim import __version__
from vendor_slim.adapters.cache import code_version, hash_memo, load_entry, store_entry
from vendor_slim.adapters.libclang import libclang_version
from vendor_slim.adapters.libclang.sema import Diag, cuda_host_args, diagnostics_and_files, template_declaration
from vendor_slim.adapters.libclang.tokens import ANGLES, ANY_BRACKET, Tok, closing_index, depth_delta, lex
from vendor_slim.adapters.progress import stage
from vendor_slim.errors import BadInput
from vendor_slim.models import Instantiation, SourceTree
from vendor_slim.targets.trtllm_fpaintb.instantiations import join, parse_generated

_EDG_ONLY = "function template partial specialization is not allowed"
CACHE_FORMAT = 1
_CODE = (__name__, "vendor_slim.targets.trtllm_fpaintb.instantiations", "vendor_slim.adapters.libclang.sema",
         "vendor_slim.adapters.libclang.tokens")


@dataclass(frozen=True)
class RunnerAnalysis:
    needed: frozenset[int]  # indexes into the instantiation list given
    missing: tuple[str, ...]  # launcher specializations referenced but not generated
    unrelated_errors: int  # other errors clang reported (missing headers, clang-only rejections)
    fixups: tuple[str, ...]  # files read through the EDG-compatibility overlay
    preamble: tuple[str, ...] = ()  # the generated files' #include lines
    namespace: tuple[str, ...] = ()  # the namespace the generated instantiations sit in
    overlays: tuple[tuple[str, str], ...] = ()  # (file, text) of the EDG-compatibility overlay
    cacheable: bool = True  # False when a header was not found (it may appear: the answer would change)


def resolve_include(name: str, including_dir: Path, include_dirs: Sequence[Path]) -> Path | None:
    for d in (including_dir, *include_dirs):
        cand = d / name
        if cand.is_file():
            return cand
    return None


def _include_name(directive: str) -> str | None:
    rest = directive.split("include", 1)[1].strip()
    if len(rest) >= 2 and rest[0] in '"<':
        return rest[1:-1]
    return None


def _strip_defaults(toks: Sequence[Tok]) -> list[Tok]:
    """Drop `= default` parts at bracket depth 1 (a definition must not repeat default arguments)."""
    out: list[Tok] = []
    depth = 0
    skipping = False
    for t in toks:
        s = t.spelling
        delta = depth_delta(s, ANY_BRACKET)
        if skipping:
            if depth == 1 and (s == "," or (delta < 0 and s != ">>")):
                skipping = False
            else:
                depth += delta
                continue
        if s == "=" and depth == 1:
            skipping = True
            continue
        depth += delta
        out.append(t)
    return out


def _template_head(toks: Sequence[Tok]) -> tuple[str, list[Tok]]:
    """`template <...>` parameter list text (defaults removed) and the rest of the declaration."""
    assert toks and toks[0].spelling == "template"
    k = closing_index(toks, 1, ANGLES)
    if k is None:
        raise ValueError("unbalanced template parameter list")
    head = _strip_defaults(toks[1 : k + 1])
    return join(head[1:-1]), list(toks[k + 1 :])


def build_probe(
    preamble: Sequence[str],
    namespace: Sequence[str],
    decl_tokens: Sequence[Tok],
    param_names: Sequence[str],
    insts: Sequence[Instantiation],
    runner_tus: Sequence[Path],
) -> str:
    params_text, rest = _template_head(decl_tokens)
    signature = join(_strip_defaults([t for t in rest if t.spelling != ";"]))
    forward = ", ".join(param_names)
    lines = [*preamble, ""]
    lines += [f"namespace {n} {{" for n in namespace]
    lines += [
        "template <int> struct vs_hit;",
        f"template <{params_text}> struct vs_miss;",
        f"template <{params_text}> struct vs_known {{ static constexpr int id = -1; }};",
    ]
    for i, inst in enumerate(insts):
        lines.append(f"template <> struct vs_known<{', '.join(inst.args)}> {{ static constexpr int id = {i}; }};")
    lines += [
        f"template <{params_text}>",
        f"{signature} {{",
        f"  if constexpr (vs_known<{forward}>::id >= 0) {{",
        f"    typename vs_hit<vs_known<{forward}>::id>::type* vs_p = nullptr; (void)vs_p;",
        "  } else {",
        f"    typename vs_miss<{forward}>::type* vs_q = nullptr; (void)vs_q;",
        "  }",
        "}",
    ]
    lines += ["}" for _ in namespace]
    lines += [f'#include "{p}"' for p in runner_tus]
    return "\n".join(lines) + "\n"


def _edg_overlay(path: Path, text: str, line: int, col: int) -> str | None:
    """Remove the explicit template arguments clang rejects in an out-of-class member template
    definition (`X<T>::f<U>(...)`, accepted by nvcc's EDG front end); analysis only, in memory."""
    toks = [t for t in lex(path, text).tokens if t.kind != "comment"]
    raw = text.encode()
    for k, t in enumerate(toks):
        if t.line == line and t.col >= col and t.kind == "identifier" and k + 1 < len(toks) \
                and toks[k + 1].spelling == "<":
            m = closing_index(toks, k + 1, ANGLES)
            if m is None:
                return None
            start = toks[k + 1].offset
            end = toks[m].offset + len(toks[m].spelling.encode())
            return (raw[:start] + b" " * (end - start) + raw[end:]).decode()
    return None


def analyse_runner(
    src: SourceTree,
    generated: Sequence[Path],
    gen_root: Path,
    launcher: str,
    runner_tus: Sequence[Path],
    *,
    std: str,
    arch: str,
    defines: Sequence[str],
    arg_fields: Sequence[str],
    probe_path: Path,
    cache: Path | None = None,
) -> tuple[list[Instantiation], RunnerAnalysis]:
    """The generated instantiations and which of them the runner TU(s) reach (see the module's doc).

    With CACHE, the result is stored under `cache/runner/` keyed by every argument, the generated files'
    and the tool's code's contents, and reused while every file the probe parse read hashes the same."""
    if cache is None:
        return _analyse(src, generated, gen_root, launcher, runner_tus, std=std, arch=arch, defines=defines,
                        arg_fields=arg_fields, probe_path=probe_path)
    memo = hash_memo(cache)
    ident = {"format": CACHE_FORMAT, "tool": __version__, "code": code_version(*_CODE), "clang": libclang_version(),
             "generated": {str(f.relative_to(gen_root)): memo.digest(f) for f in generated},
             "gen_root": str(gen_root), "launcher": launcher, "runners": [str(p) for p in runner_tus], "std": std,
             "arch": arch, "defines": list(defines), "fields": list(arg_fields),
             "include_dirs": [str(d) for d in src.include_dirs], "cuda": cuda_host_args(std, arch)}
    key = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()
    path = cache / "runner" / f"{key}.json"
    entry = load_entry(path, memo)
    if entry is not None:
        try:
            return _from_json(entry["result"])  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError):
            pass
    read: list[str] = []
    with stage("runner analysis (libclang instantiates the runner)"):
        insts, analysis = _analyse(src, generated, gen_root, launcher, runner_tus, std=std, arch=arch,
                                   defines=defines, arg_fields=arg_fields, probe_path=probe_path, read=read)
    if analysis.cacheable:
        hashes = {f: memo.digest(f) for f in sorted(set(read)) if f != str(probe_path)}
        if all(h is not None for h in hashes.values()):
            store_entry(path, {"hashes": hashes, "result": _to_json(insts, analysis)}, memo)
    return insts, analysis


def _to_json(insts: Sequence[Instantiation], a: RunnerAnalysis) -> dict[str, Any]:
    return {"insts": [asdict(i) for i in insts], "analysis": {**asdict(a), "needed": sorted(a.needed)}}


def _tuples(v: Any) -> Any:
    return tuple(_tuples(x) for x in v) if isinstance(v, list) else v


def _from_json(d: dict[str, Any]) -> tuple[list[Instantiation], RunnerAnalysis]:
    names = {f.name for f in fields(Instantiation)}
    insts = [Instantiation(**{k: _tuples(v) for k, v in i.items() if k in names}) for i in d["insts"]]
    a = {k: _tuples(v) for k, v in d["analysis"].items()}
    a["needed"] = frozenset(a["needed"])
    return insts, RunnerAnalysis(**a)


def _analyse(
    src: SourceTree,
    generated: Sequence[Path],
    gen_root: Path,
    launcher: str,
    runner_tus: Sequence[Path],
    *,
    std: str,
    arch: str,
    defines: Sequence[str],
    arg_fields: Sequence[str],
    probe_path: Path,
    read: list[str] | None = None,
) -> tuple[list[Instantiation], RunnerAnalysis]:
    read = [] if read is None else read
    read += [str(f) for f in generated]
    insts: list[Instantiation] = []
    preambles: set[tuple[str, ...]] = set()
    namespaces: set[tuple[str, ...]] = set()
    for f in generated:
        pf = parse_generated(lex(f, f.read_text()), str(f.relative_to(gen_root)), arg_fields)
        for inst in pf.instantiations:
            if inst.function == launcher and inst.index not in pf.disabled:
                insts.append(inst)
                preambles.add(pf.preamble)
                namespaces.add(inst.namespace)
    if len(namespaces) != 1 or len(preambles) != 1:
        raise BadInput(f"generated {launcher} instantiations do not share one namespace and preamble")
    (namespace,) = namespaces
    (preamble,) = preambles
    # The headers the generated files' .inl includes, not the .inl itself: it defines the launcher.
    lines: list[str] = []
    for directive in preamble:
        name = _include_name(directive)
        inl = resolve_include(name, gen_root, src.include_dirs) if name else None
        if inl is None:
            raise BadInput(f"{directive} of the generated files does not resolve in {src.path}")
        read.append(str(inl))
        for inner in parse_generated(lex(inl, inl.read_text()), inl.name, arg_fields).preamble:
            n = _include_name(inner)
            hit = resolve_include(n, inl.parent, src.include_dirs) if n else None
            lines.append(f'#include "{hit}"' if hit else inner)
    args = [*cuda_host_args(std, arch), *[f"-I{d}" for d in src.include_dirs], *[f"-D{d}" for d in defines]]
    decl = template_declaration(probe_path, "\n".join(lines) + "\n", args, namespace, launcher)
    if decl is None:
        raise BadInput(f"no declaration of {'::'.join((*namespace, launcher))} in the headers of {preamble[0]}")
    text = build_probe(lines, namespace, decl.tokens, decl.param_names, insts, runner_tus)
    probe_path.parent.mkdir(parents=True, exist_ok=True)
    probe_path.write_text(text)
    overlays: dict[str, str] = {}
    for _ in range(8):
        diags, files = diagnostics_and_files(probe_path, text, args, overlays)
        read += files
        todo = [d for d in diags if d.message == _EDG_ONLY and d.file and d.file not in overlays]
        if not todo:
            break
        for d in todo:
            assert d.file is not None
            base = overlays.get(d.file) or Path(d.file).read_text()
            fixed = _edg_overlay(Path(d.file), base, d.line, d.col)
            if fixed is not None:
                overlays[d.file] = fixed
    return insts, replace(_read(diags, tuple(sorted(overlays))), preamble=preamble, namespace=namespace,
                          overlays=tuple(sorted(overlays.items())))


def _read(diags: Sequence[Diag], fixups: tuple[str, ...]) -> RunnerAnalysis:
    needed: set[int] = set()
    missing: list[str] = []
    other = 0
    for d in diags:
        msg = d.message
        if "vs_hit<" in msg:
            num = msg.split("vs_hit<", 1)[1].split(">", 1)[0]
            if num.lstrip("-").isdigit():
                needed.add(int(num))
        elif "vs_miss<" in msg:
            missing.append(msg.split("vs_miss<", 1)[1].rsplit(">", 1)[0])
        else:
            other += 1
    not_found = any(d.message.endswith("file not found") for d in diags)
    return RunnerAnalysis(frozenset(needed), tuple(sorted(set(missing))), other, fixups, cacheable=not not_found)
