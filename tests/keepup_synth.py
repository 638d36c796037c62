"""Synthetic upstreams with git provenance for the publish, diff and SBOM tests (issue 7).

The upstream is a git repository with a GitHub-style remote, and its CUTLASS a nested repository of
its own, so the lock carries both commits as with a real TensorRT-LLM checkout.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.helpers import Result, run_cli
from tests.synth import GEN_FILE_1, GEN_FILE_2, generator_script, make_extract_tree

REMOTE = "https://github.com/NVIDIA/TensorRT-LLM.git"
CUTLASS_REMOTE = "https://github.com/NVIDIA/cutlass.git"
TEST_IDENTITY = ("-c", "user.name=Test", "-c", "user.email=test@example.com")


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *TEST_IDENTITY, *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout.strip()


def no_git_identity(home: Path) -> dict[str, str]:
    """An environment where git finds no user.name or user.email (no global or system configuration)."""
    home.mkdir(parents=True, exist_ok=True)
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_CONFIG_GLOBAL": os.devnull}
    for k in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "EMAIL"):
        env[k] = ""
    return env


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def make_git_upstream(root: Path) -> Path:
    """make_extract_tree as a git checkout: CUTLASS a nested repository, the whole committed."""
    make_extract_tree(root)
    cut = root / "3rdparty/cutlass"
    git(cut, "init", "-q")
    git(cut, "remote", "add", "origin", CUTLASS_REMOTE)
    commit_all(cut, "cutlass")
    git(root, "init", "-q")
    git(root, "remote", "add", "origin", REMOTE)
    (root / ".gitignore").write_text("")
    commit_all(root, "upstream")
    return root


# The second vintage: the runner needs a Tile 32 launcher for A and no longer the Tile 256 one for B;
# the generator follows; a header is added, one is gone, one changes licence, one changes text.
RUNNER_INL_V2 = """\
#pragma once
#include "syn/runner.h"
#include "syn/extra.h"
namespace syn {
template <typename Act, typename W, Q Op>
void Runner<Act, W, Op>::run(Act const* a, W const* w, int m) {
  static_assert(EXT_PRODUCT_VERSION > 0, "stub");
  static_assert(kExtra == 1, "extra");
  if constexpr (Op == Q::A) { if (m < 32) launch<Act, W, Op, 32>(a, w, m); }
  if (m < 64) launch<Act, W, Op, 64>(a, w, m);
  else launch<Act, W, Op, 128>(a, w, m);
}
}
"""

GEN_FILE_3 = """\
#include "syn/launcher.inl"
namespace syn {
template void launch<half_t, int4_t, syn::Q::A, 32>(half_t const*, int4_t const*, int, int*);
}
"""

LAUNCHER_INL_V2 = """\
#pragma once
#include "syn/launcher.h"
#include "syn/log.h"
namespace syn {
template <typename Act, typename W, Q Op, int Tile>
__global__ void kernel(int n, int* out) {
#ifdef __CUDA_ARCH__
  if (out) out[0] = n + Tile;
#endif
}
template <typename Act, typename W, Q Op, int Tile>
void launch(Act const* a, W const* w, int n, int* occupancy) {
  (void)a; (void)w;
  if (n < 0) log_msg("negative n");
  kernel<Act, W, Op, Tile><<<1, 1>>>(n, occupancy);
}
}
"""


def make_second_vintage(root: Path) -> Path:
    """Another upstream commit of the same project (a git checkout too)."""
    make_git_upstream(root)
    gen2 = GEN_FILE_2.replace(
        "template void launch<half_t, int4_t, syn::Q::B, 256>(half_t const*, int4_t const*, int, int*);\n", "")
    assert gen2 != GEN_FILE_2
    files = {
        "cpp/syn/runner.inl": RUNNER_INL_V2,
        "cpp/syn/extra.h": "#pragma once\nnamespace syn { constexpr int kExtra = 1; }\n",
        "cpp/syn/launcher.inl": LAUNCHER_INL_V2,  # device_only.h is no longer read
        "cpp/syn/types.h": "// SPDX-License-Identifier: MIT\n" + (root / "cpp/syn/types.h").read_text(),
        "cpp/syn/log.h": (root / "cpp/syn/log.h").read_text() + "// second vintage\n",
        "cpp/tensorrt_llm/kernels/cutlass_kernels/python/generate_kernels.py": generator_script(
            {"cutlass_kernel_file_1.generated.cu": GEN_FILE_1, "cutlass_kernel_file_2.generated.cu": gen2,
             "cutlass_kernel_file_3.generated.cu": GEN_FILE_3}),
    }
    for rel, text in files.items():
        (root / rel).write_text(text)
    commit_all(root, "second vintage")
    return root


def extract(up: Path, out: Path, cache: Path, *more: str) -> Result:
    return run_cli("extract", "--trtllm", up, "--rules", up / "rules.toml", "--quant-op", "all", "--out", out,
                   *more, cache=cache)


def tree_files(tree: Path) -> dict[str, bytes]:
    """Every file under TREE but a repository's .git."""
    return {p.relative_to(tree).as_posix(): p.read_bytes() for p in sorted(tree.rglob("*"))
            if p.is_file() and p.relative_to(tree).parts[0] != ".git"}
