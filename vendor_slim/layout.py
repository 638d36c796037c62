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
