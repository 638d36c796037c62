"""What a TU defines and what it uses without defining: the facts behind the link closure.

A TU *defines* the functions and variables its own file defines, the members of class templates it
explicitly instantiates there, and the function templates it is told it instantiates (libclang does
not expose explicit function instantiations). What it *uses* is found by walking from those
definitions through every body reachable in the upstream tree (inline functions, template
patterns), so a function that a header declares but nothing reached calls is not counted. A use is
keyed by its USR, taken from the template pattern for a specialization, so that
`Runner<half, ...>::gemm` used in one TU matches the pattern instantiated in another.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vendor_slim.adapters.libclang import cindex
from vendor_slim.adapters.libclang.tokens import PARSE_KEEP_GOING


@dataclass(frozen=True)
class SymbolUse:
    key: str  # USR (of the template pattern, for a specialization)
    name: str  # qualified name, for messages
    spelling: str  # the identifier, for finding candidate definitions by text
    parent: str  # the enclosing class's name, '' for a namespace-scope entity
    declared_in: str  # the file of its declaration


@dataclass(frozen=True)
class SymbolFacts:
    defines: tuple[str, ...]  # keys, sorted
    uses: tuple[SymbolUse, ...]  # reached, not defined in this TU, declared in-tree; sorted by key
    files: tuple[str, ...]  # every file the parse read, for cache validation
    external: tuple[str, ...] = ()  # headers (base names) declaring reached functions defined outside the tree


_FUNCS = ("FUNCTION_DECL", "CXX_METHOD", "CONSTRUCTOR", "DESTRUCTOR", "CONVERSION_FUNCTION",
          "FUNCTION_TEMPLATE")
_CLASSES = ("CLASS_DECL", "STRUCT_DECL", "CLASS_TEMPLATE")
_SCOPES = ("NAMESPACE", "LINKAGE_SPEC", "UNEXPOSED_DECL")


def _file(c: Any) -> str | None:
    f = c.location.file
    return str(f.name) if f is not None else None


def _qualified(c: Any) -> str:
    parts: list[str] = []
    while c is not None and c.kind.name != "TRANSLATION_UNIT":
        parts.append(c.spelling or "(anonymous)")
        c = c.semantic_parent
    return "::".join(reversed(parts))


def _overloads(c: Any) -> list[Any]:
    lib = cindex().conf.lib
    out = []
    for i in range(int(lib.clang_getNumOverloadedDecls(c))):
        d = lib.clang_getOverloadedDecl(c, ctypes.c_uint(i))
        d._tu = c._tu  # the raw call does not attach the TU the bindings need
        out.append(d)
    return out


def _implicit(c: Any) -> bool:
    """Implicit special members carry their class's location (there is no declaration to point at)."""
    if c.kind.name not in ("CONSTRUCTOR", "DESTRUCTOR", "CXX_METHOD"):
        return False
    parent = c.semantic_parent
    if parent is None:
        return False
    a, b = c.location, parent.location
    return bool(a.file and b.file and a.file.name == b.file.name and a.line == b.line and a.column == b.column)


class _Walker:
    def __init__(self, main: str, walk_into: Callable[[str], bool], in_tree: Callable[[str], bool]) -> None:
        self.main = main
        self.walk_into = walk_into  # files whose bodies are followed (the TensorRT-LLM root)
        self.in_tree = in_tree  # files whose undefined declarations count as uses
        self.seen: set[str] = set()
        self.queue: list[Any] = []
        self.defines: set[str] = set()
        self.uses: dict[str, SymbolUse] = {}
        self.external: set[str] = set()

    def seed(self, definition: Any) -> None:
        key = definition.get_usr()
        if key:
            self.defines.add(key)
            self.seen.add(key)
        self.queue.append(definition)

    def reach(self, ref: Any) -> None:
        kind = ref.kind.name
        if kind == "VAR_DECL":
            if ref.linkage.name not in ("EXTERNAL", "UNIQUE_EXTERNAL"):
                return  # locals and internal-linkage variables are no link dependency
        elif kind not in _FUNCS or ref.spelling.startswith("__"):
            return  # identifiers with __ are the implementation's (builtins, CUDA intrinsics)
        elif kind == "CXX_METHOD" and ref.is_pure_virtual_method():
            return  # a call through the vtable: never defined, no link dependency
        pattern = ref.specialized_template or ref
        if _implicit(pattern):
            return  # an implicitly declared member: the compiler defines it where it is used
        key = pattern.get_usr()
        if not key or key in self.seen:
            return
        self.seen.add(key)
        definition = pattern.get_definition() or ref.get_definition()
        if kind == "CONSTRUCTOR":
            self._class_needs(pattern.semantic_parent)
        if definition is not None:
            f = _file(definition)
            if f is not None and self.walk_into(f):
                self.queue.append(definition)
            return
        f = _file(pattern)
        if f is None:
            return
        if not self.in_tree(f):
            self.external.add(Path(f).name)  # a library function: tells which libraries to link
            return
        parent = pattern.semantic_parent
        self.uses[key] = SymbolUse(
            key, _qualified(pattern), pattern.spelling.split("<", 1)[0].lstrip("~"),
            parent.spelling.split("<", 1)[0] if parent is not None and parent.kind.name in _CLASSES else "", f,
        )

    def _class_needs(self, cls: Any) -> None:
        """Constructing an object needs its destructor and, through the vtable, its virtual methods."""
        if cls is None or cls.kind.name not in _CLASSES:
            return
        for m in cls.get_children():
            if m.kind.name == "DESTRUCTOR" or (m.kind.name == "CXX_METHOD" and m.is_virtual_method()):
                self.reach(m)

    def run(self) -> None:
        while self.queue:
            self._body(self.queue.pop())

    def _body(self, c: Any) -> None:
        stack = [c]
        while stack:
            node = stack.pop()
            kind = node.kind.name
            if kind in ("DECL_REF_EXPR", "MEMBER_REF_EXPR", "CALL_EXPR"):
                ref = node.referenced
                if ref is not None:
                    self.reach(ref)
            elif kind == "OVERLOADED_DECL_REF":
                for d in _overloads(node):
                    self.reach(d)
            stack.extend(node.get_children())


def _declarations(tu: Any) -> Iterator[Any]:
    """Every declaration at namespace scope (namespaces and linkage specs opened), and the members of
    classes defined there."""
    stack = list(tu.cursor.get_children())
    while stack:
        c = stack.pop()
        if c.kind.name in _SCOPES:
            stack.extend(c.get_children())
            continue
        yield c
        if c.kind.name in _CLASSES and c.specialized_template is None and c.is_definition():
            stack.extend(ch for ch in c.get_children() if ch.kind.name in _FUNCS)


def _main_definitions(tu: Any, main: str) -> list[Any]:
    """Definitions that sit in the TU's own file, and its explicit class template instantiations."""
    out: list[Any] = []
    for c in _declarations(tu):
        if _file(c) != main:
            continue
        kind = c.kind.name
        if kind in _CLASSES and c.specialized_template is not None:
            out.append(c)  # `template class X<...>;` (or a specialization): its members are defined here
        elif kind in (*_FUNCS, "VAR_DECL") and c.is_definition():
            out.append(c)
    return out


def _function_templates(tu: Any, qualified: set[str]) -> list[Any]:
    return [c for c in _declarations(tu)
            if c.kind.name == "FUNCTION_TEMPLATE" and c.is_definition() and _qualified(c) in qualified]


def symbol_facts(
    source: Path,
    args: Sequence[str],
    *,
    contents: str | None = None,
    overlays: Sequence[tuple[str, str]] = (),
    instantiated: Sequence[str] = (),
    walk_into: Callable[[str], bool],
    in_tree: Callable[[str], bool],
    skip_bodies: bool = False,
) -> SymbolFacts:
    """Parse SOURCE and report what it defines and (unless skip_bodies) what it uses but does not define.

    `instantiated` names function templates (qualified, without template arguments) that SOURCE
    explicitly instantiates."""
    ci = cindex()
    unsaved = ([(str(source), contents)] if contents is not None else []) + list(overlays)
    options = PARSE_KEEP_GOING | (ci.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES if skip_bodies else 0)
    tu = ci.TranslationUnit.from_source(str(source), list(args), unsaved_files=unsaved or None, options=options)
    main = str(tu.spelling)
    walker = _Walker(main, walk_into, in_tree)
    for d in _main_definitions(tu, main):
        if d.kind.name in _CLASSES:
            pattern = d.specialized_template
            for m in pattern.get_children():
                if m.kind.name in _FUNCS:
                    md = m.get_definition()
                    walker.defines.add(m.get_usr())
                    if md is not None and not skip_bodies:
                        walker.seed(md)
        elif skip_bodies:
            walker.defines.add(d.get_usr())
        else:
            walker.seed(d)
    for t in _function_templates(tu, set(instantiated)):
        walker.seed(t)
    if not skip_bodies:
        walker.run()
    files = sorted({str(i.include.name) for i in tu.get_includes()} | {main})
    uses = tuple(u for k, u in sorted(walker.uses.items()) if k not in walker.defines)
    return SymbolFacts(tuple(sorted(k for k in walker.defines if k)), uses, tuple(files),
                       tuple(sorted(walker.external)))
