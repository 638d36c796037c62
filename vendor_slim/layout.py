"""Conventions of the emitted tree shared by `extract` (which writes it) and `verify` (which checks it).

The build commands live here once: the emitted README shows them and `verify` runs them, so the
two cannot drift apart.
"""

from __future__ import annotations

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
