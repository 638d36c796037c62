"""Include edges of one TU, read by libclang the way nvcc's preprocessor passes read it.

clang's own CUDA mode reads a different set of files than nvcc (CUTLASS and libcu++ take
`__clang__`-only paths), so each of nvcc's passes is replayed in plain C++ mode instead: clang's
predefined macros are dropped (`-undef`) and replaced by exactly the host compiler's for that pass
(nvcc's `__CUDACC__`, `__CUDA_ARCH__`... included), clang-only built-in macros such as
`__has_feature` are undefined where the host compiler lacks them, and the search path is the host
compiler's (no clang resource headers, no libc++). Only the preprocessor's result is used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vendor_slim.adapters import nvcc
from vendor_slim.adapters.libclang import cindex
from vendor_slim.adapters.nvcc import PreprocessPass

# Built-in (not predefined) macros clang has; the ones the host compiler lacks are #undef'd so that
# `#ifdef __has_feature`-style tests take the host compiler's branch.
CLANG_BUILTIN_MACROS: tuple[str, ...] = (
    "__has_feature", "__has_extension", "__has_declspec_attribute", "__is_identifier",
    "__has_warning", "__is_target_arch", "__is_target_vendor", "__is_target_os",
    "__is_target_environment", "__is_target_variant_os", "__is_target_variant_environment",
    "__has_constexpr_builtin", "__building_module", "__FILE_NAME__", "__has_embed",
    "__has_c_attribute", "__has_builtin", "__has_attribute", "__has_cpp_attribute",
    "__has_include", "__has_include_next",
)

_KEEP_GOING = 0x200  # CXTranslationUnit_KeepGoing: a missing header must not stop the parse
_NOT_FOUND = re.compile(r"^'(?P<name>.+)' file not found")
# Other ways an #include line fails, each a compile error under nvcc too (clang's wording).
_CANNOT_OPEN = re.compile(r"^cannot open file '(?P<path>.+)': (?P<why>.+)$")
_TOO_DEEP = re.compile(r"^#include nested (?:too deeply|depth \d+ exceeds maximum)")
_NOT_A_NAME = ('expected "FILENAME" or <FILENAME>', "empty filename")
_DIRECTIVE = re.compile(r"^\s*#\s*(?:include_next|include|import)\s*(?P<rest>.*?)\s*(?://.*|/\*.*)?$")


@dataclass(frozen=True)
class IncludeEdge:
    includer: Path
    included: Path
    line: int  # 0: forced by the command line (-include)


@dataclass(frozen=True)
class UnresolvedInclude:
    includer: Path | None  # None: a -include on the command line
    line: int
    spelling: str  # as written between the quotes or brackets (for a macro, the macro as written)
    # why, when it is not simply "not found": "unreadable: ...", "not a header name: ..." or
    # "nested too deeply: ..." (an include cycle without guards)
    reason: str = ""


@dataclass(frozen=True)
class IncludeResult:
    files: tuple[Path, ...]  # every file read (the source and forced includes too), sorted
    edges: tuple[IncludeEdge, ...]
    unresolved: tuple[UnresolvedInclude, ...]


def _norm(p: str | os.PathLike[str]) -> Path:
    return Path(os.path.normpath(os.path.abspath(p)))


def clang_args(pp: PreprocessPass) -> list[str]:
    """libclang arguments that replay one host-compiler preprocessor pass."""
    absent = nvcc.undefined_builtins(pp, CLANG_BUILTIN_MACROS)
    args = ["-x", "c++", "-undef", "-nostdinc", "-nostdinc++", "-w", "-ferror-limit=0",
            "-fno-spell-checking", *pp.dialect]
    args += [f"-U{name}" for name in absent]
    # NAME= (not NAME) keeps an empty definition empty; -D NAME would make it 1.
    args += [f"-D{name}={body}" for name, body in pp.macros]
    args += list(pp.include_flags)
    for d in pp.system_dirs:
        args += ["-isystem", d]
    for f in pp.forced_includes:
        args += ["-include", f]
    return args


def parse_includes(source: Path, args: Sequence[str], *, contents: str | None = None) -> IncludeResult:
    """Parse SOURCE once with ARGS (from `clang_args`); CONTENTS replaces the file's text if given."""
    ci = cindex()
    src = _norm(source)
    unsaved = [(str(src), contents)] if contents is not None else None
    options = (
        _KEEP_GOING
        | ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES
        | ci.TranslationUnit.PARSE_INCOMPLETE
    )
    tu = ci.TranslationUnit.from_source(str(src), list(args), unsaved_files=unsaved, options=options)
    return IncludeResult(*_collect(tu, src))


_Collected = tuple[tuple[Path, ...], tuple[IncludeEdge, ...], tuple[UnresolvedInclude, ...]]


def _collect(tu: Any, src: Path) -> _Collected:
    files: set[Path] = {src}
    edges: set[IncludeEdge] = set()
    for inc in tu.get_includes():
        included = _norm(inc.include.name)
        files.add(included)
        loc = inc.location
        if inc.source is None or loc.file is None:
            edges.add(IncludeEdge(src, included, 0))
        else:
            edges.add(IncludeEdge(_norm(inc.source.name), included, int(loc.line)))
    unresolved: set[UnresolvedInclude] = set()
    unreadable: dict[tuple[Path | None, int], str] = {}
    for diag in tu.diagnostics:
        text = diag.spelling
        f = diag.location.file
        includer = _norm(f.name) if f is not None and not f.name.startswith("<") else None
        line = int(diag.location.line)
        m = _NOT_FOUND.match(text)
        if m:
            unresolved.add(UnresolvedInclude(includer, line, m.group("name")))
            continue
        m = _CANNOT_OPEN.match(text)
        if m:
            unreadable[(includer, line)] = f"unreadable: {m.group('why').lower()} ({_norm(m.group('path'))})"
        elif text in _NOT_A_NAME:
            unresolved.add(UnresolvedInclude(includer, line, _directive_operand(includer, line),
                                             f"not a header name: {text}"))
        elif _TOO_DEEP.match(text):
            unresolved.add(UnresolvedInclude(includer, line, _directive_operand(includer, line),
                                             "nested too deeply: an include cycle without include guards "
                                             "or #pragma once"))
    if unreadable:
        # clang says both "cannot open file" and "file not found" for a file it may not read
        unresolved = {UnresolvedInclude(u.includer, u.line, u.spelling, unreadable.get((u.includer, u.line), u.reason))
                      for u in unresolved}
        for (includer, line), why in unreadable.items():
            if not any((u.includer, u.line) == (includer, line) for u in unresolved):
                unresolved.add(UnresolvedInclude(includer, line, _directive_operand(includer, line), why))
    return (
        tuple(sorted(files)),
        tuple(sorted(edges, key=lambda e: (str(e.includer), e.line, str(e.included)))),
        tuple(sorted(unresolved, key=lambda u: (str(u.includer), u.line, u.spelling))),
    )


def _directive_operand(includer: Path | None, line: int) -> str:
    """What follows `#include` on LINE of INCLUDER, quotes and all (a macro name stays a macro name)."""
    if includer is None:
        return "?"
    try:
        with open(includer, errors="replace") as fh:
            for i, text in enumerate(fh, 1):
                if i == line:
                    m = _DIRECTIVE.match(text)
                    return (m.group("rest") if m else text.strip()).strip("\"<>") or text.strip()
    except OSError:
        pass
    return "?"


def union(results: Iterable[IncludeResult]) -> IncludeResult:
    """What the compiler reads over all its passes."""
    files: set[Path] = set()
    edges: set[IncludeEdge] = set()
    unresolved: set[UnresolvedInclude] = set()
    for r in results:
        files.update(r.files)
        edges.update(r.edges)
        unresolved.update(r.unresolved)
    return IncludeResult(
        tuple(sorted(files)),
        tuple(sorted(edges, key=lambda e: (str(e.includer), e.line, str(e.included)))),
        tuple(sorted(unresolved, key=lambda u: (str(u.includer), u.line, u.spelling))),
    )
