"""Conventions of the emitted tree shared by `extract` (which writes it) and `verify` (which checks it).

The build commands live here once: the emitted README shows them and `verify` runs them, so the
two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

LOCK_NAME = "vendor.lock.json"
GIT_DIR = ".git"  # `publish` may make the tree its own repository: never part of the tree, always kept
THIRD_PARTY = "third_party"
GENERATED_DIR = "src/generated"
STUB_DIR = f"{THIRD_PARTY}/stubs"
UPSTREAM_DIRS = {"trtllm": f"{THIRD_PARTY}/tensorrt_llm", "cutlass": f"{THIRD_PARTY}/cutlass"}
UPSTREAM_NAMES = {"trtllm": "TensorRT-LLM", "cutlass": "CUTLASS"}
ROLES = ("header", "source", "generated", "stub", "license", "build", "doc")

# {src}: the tree, {build}: a fresh build folder, {jobs}: parallel compile jobs, {test}: test program
CONFIGURE = ("cmake", "-S", "{src}", "-B", "{build}", "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
             "-DBUILD_SHARED_LIBS=ON")
BUILD = ("cmake", "--build", "{build}", "-j", "{jobs}")
CHECK = ("{build}/{test}", "--check")
BENCH = ("{build}/{test}", "--check", "--bench", "--json", "{build}/results.json")


def command(template: tuple[str, ...], **values: str) -> list[str]:
    return [part.format(**values) for part in template]


def test_program(library: str) -> str:
    return f"{library}_test"


def in_git_dir(rel: str) -> bool:
    return rel == GIT_DIR or rel.startswith(GIT_DIR + "/")


# The emitted .gitignore: build folders inside the tree (the README's `cmake -B build`, IDEs' `cmake-build-*`).
# verify, publish and extract ignore exactly these, as git does, so following the README never makes them
# refuse the tree; they are top-level folders only (a pattern the emitted file can say in one line each).
IGNORED_DIRS = ("build", "build-*", "cmake-build-*")
GITIGNORE_NAME = ".gitignore"


def render_gitignore() -> str:
    return ("# Written by vendor-slim: build folders inside the tree (vendor-slim verify, publish and extract\n"
            "# ignore exactly these too).\n" + "".join(f"/{d}/\n" for d in IGNORED_DIRS))


def ignored_dir(name: str) -> bool:
    """Whether a top-level folder of the tree is one the emitted .gitignore names."""
    import fnmatch

    return any(fnmatch.fnmatchcase(name, pat) for pat in IGNORED_DIRS)


def kept_by_user(rel: str, is_dir_at_top: bool = True) -> bool:
    """Paths of a tree that are not the tree's but the user's: the repository (.git) and ignored build folders."""
    top, sep, _rest = rel.partition("/")
    return in_git_dir(rel) or (bool(sep) and ignored_dir(top)) or (not sep and is_dir_at_top and ignored_dir(top))


# ---------------------------------------------------------------------------------------------
# What the tree holds, counted one way for every report (extract's and closure's summaries, the
# README, NOTICE and the publish commit): an upstream file is one copied from an upstream project that
# a compile reads; each upstream's licence file is counted apart; everything else (build files, API,
# generated TUs, stubs, docs, the lock) is written by vendor-slim. The three add up to the total.


@dataclass(frozen=True)
class TreeCounts:
    upstream: dict[str, int]  # per upstream name (UPSTREAM_DIRS), files a compile reads
    licences: int  # upstream licence files
    tool: int  # written by vendor-slim, the lock included

    @property
    def total(self) -> int:
        return sum(self.upstream.values()) + self.licences + self.tool

    def line(self) -> str:
        return (f"{self.total} files: {upstream_phrase(self.upstream)}, {self.licences} licence files, "
                f"{self.tool} written by vendor-slim")


def upstream_phrase(upstream: Mapping[str, int]) -> str:
    """'415 upstream files (301 TensorRT-LLM, 114 CUTLASS)': the one wording of the upstream count."""
    parts = ", ".join(f"{upstream.get(n, 0)} {UPSTREAM_NAMES[n]}" for n in UPSTREAM_NAMES)
    return f"{sum(upstream.values())} upstream files ({parts})"


def upstream_of(path: str) -> str | None:
    """Which upstream a tree path was copied from (by its third_party/ folder), or None."""
    return next((n for n, d in UPSTREAM_DIRS.items() if path.startswith(d + "/")), None)


def tree_counts(files: Iterable[tuple[str, bool, str]], lock: bool = True) -> TreeCounts:
    """Counts of the tree's files given as (tree path, copied from upstream, role); LOCK adds the lock
    (which lists the others, not itself)."""
    upstream = {n: 0 for n in UPSTREAM_DIRS}
    licences = tool = 0
    for path, copied, role in files:
        name = upstream_of(path) if copied else None
        if name is None:
            tool += 1
        elif role == "license":
            licences += 1
        else:
            upstream[name] += 1
    return TreeCounts(upstream, licences, tool + int(lock))
