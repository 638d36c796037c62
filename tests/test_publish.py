"""publish: one commit per publish holding exactly the emitted tree, provenance trailers, tags, refusals."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import no_traceback, run_cli, tamper
from tests.keepup_synth import (
    CUTLASS_REMOTE,
    REMOTE,
    commit_all,
    extract,
    git,
    no_git_identity,
    tree_files,
)

pytest_plugins = ["tests.keepup_fixtures"]  # the session fixtures keepup_tree, keepup_fg_tree


@pytest.fixture(scope="module")
def extracted(keepup_tree: tuple[Path, Path, Path]) -> tuple[Path, Path, Path]:
    """(upstream, emitted tree, cache) for the synthetic upstream as a git checkout."""
    return keepup_tree


@pytest.fixture(scope="module")
def fg_only(keepup_fg_tree: Path) -> Path:
    return keepup_fg_tree


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return no_git_identity(tmp_path / "home")


def _publish(*args: str | Path, env: dict[str, str]) -> tuple[int, str, str]:
    r = run_cli("publish", *args, env=env)
    assert no_traceback(r), r.err
    return r.code, r.out, r.err


def _commits(repo: Path) -> list[str]:
    return git(repo, "rev-list", "HEAD").split()


def _trailers(repo: Path, rev: str = "HEAD") -> dict[str, str]:
    msg = git(repo, "log", "-1", "--format=%B", rev)
    done = subprocess.run(["git", "interpret-trailers", "--parse"], input=msg, capture_output=True, text=True,
                          check=True)
    return dict(line.split(": ", 1) for line in done.stdout.splitlines())


def _committed(repo: Path, rev: str = "HEAD") -> dict[str, bytes]:
    names = git(repo, "ls-tree", "-r", "-z", "--name-only", rev).split("\0")
    return {n: subprocess.run(["git", "show", f"{rev}:{n}"], cwd=repo, capture_output=True, check=True).stdout
            for n in names if n}


def test_publish_to_a_new_repo_with_trailers_and_tag(extracted: tuple[Path, Path, Path], tmp_path: Path,
                                                     env: dict[str, str]) -> None:
    up, out, _ = extracted
    before = tree_files(out)
    repo = tmp_path / "published"
    start = time.time()
    code, stdout, err = _publish(out, "--repo", repo, "--tag", "v1", env=env)
    assert code == 0, err
    assert "published" in stdout and "tagged v1" in stdout
    # exactly the emitted tree, byte for byte, the lock included
    assert _committed(repo) == tree_files(out)
    assert git(repo, "status", "--porcelain") == ""
    lock = json.loads((out / "vendor.lock.json").read_text())
    up_commit = git(up, "rev-parse", "HEAD")
    cut_commit = git(up / "3rdparty/cutlass", "rev-parse", "HEAD")
    assert lock["upstream"]["trtllm"]["commit"] == up_commit and lock["upstream"]["cutlass"]["commit"] == cut_commit
    assert _trailers(repo) == {
        "Vendored-From": f"{REMOTE}@{up_commit}",
        "CUTLASS": cut_commit,
        "vendor-slim": lock["tool"]["version"],
        "Rules-SHA256": lock["rules"]["sha256"],
    }
    # no identity configured: a fixed one, but the real date
    assert git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>") == (
        "vendor-slim <vendor-slim@localhost>|vendor-slim <vendor-slim@localhost>")
    assert int(git(repo, "log", "-1", "--format=%ct")) >= int(start) - 5
    # an annotated tag on the commit
    assert git(repo, "cat-file", "-t", "v1") == "tag"
    assert git(repo, "rev-parse", "v1^{commit}") == git(repo, "rev-parse", "HEAD")
    assert tree_files(out) == before  # the tree is only read


def test_configured_identity_is_used(extracted: tuple[Path, Path, Path], tmp_path: Path, env: dict[str, str]) -> None:
    _, out, _ = extracted
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.name", "Maintainer")
    git(repo, "config", "user.email", "m@example.com")
    code, _, err = _publish(out, "--repo", repo, env=env)
    assert code == 0, err
    assert git(repo, "log", "-1", "--format=%an <%ae>") == "Maintainer <m@example.com>"


def test_publishing_the_same_tree_again_makes_no_commit(extracted: tuple[Path, Path, Path], tmp_path: Path,
                                                         env: dict[str, str]) -> None:
    _, out, _ = extracted
    repo = tmp_path / "r"
    assert _publish(out, "--repo", repo, env=env)[0] == 0
    head = _commits(repo)
    code, stdout, _ = _publish(out, "--repo", repo, env=env)
    assert code == 0 and "nothing to publish" in stdout
    assert _commits(repo) == head
    # a tag asked for then goes on the commit that already holds the tree
    code, stdout, _ = _publish(out, "--repo", repo, "--tag", "later", env=env)
    assert code == 0 and "nothing to publish" in stdout and "tagged later" in stdout
    assert _commits(repo) == head and git(repo, "rev-parse", "later^{commit}") == head[0]


def test_existing_tag_is_refused(extracted: tuple[Path, Path, Path], fg_only: Path, tmp_path: Path,
                                 env: dict[str, str]) -> None:
    out = extracted[1]
    repo = tmp_path / "r"
    assert _publish(out, "--repo", repo, "--tag", "v1", env=env)[0] == 0
    head = _commits(repo)
    code, _, err = _publish(fg_only, "--repo", repo, "--tag", "v1", env=env)
    assert code == 2 and "tag v1 already exists" in err
    assert _commits(repo) == head and _committed(repo) == tree_files(out)
    assert git(repo, "status", "--porcelain") == ""


def test_invalid_tag_is_refused(extracted: tuple[Path, Path, Path], tmp_path: Path, env: dict[str, str]) -> None:
    code, _, err = _publish(extracted[1], "--repo", tmp_path / "r", "--tag", "bad..tag", env=env)
    assert code == 2 and "not a valid git tag name" in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("case", ["modified", "staged", "untracked", "ignored"])
def test_dirty_repo_is_refused_untouched(extracted: tuple[Path, Path, Path], tmp_path: Path, env: dict[str, str],
                                        case: str) -> None:
    _, out, _ = extracted
    repo = tmp_path / "r"
    assert _publish(out, "--repo", repo, env=env)[0] == 0
    head = _commits(repo)
    if case == "modified":
        (repo / "NOTICE").write_text("mine\n")
    elif case == "staged":
        (repo / "NOTICE").write_text("mine\n")
        git(repo, "add", "NOTICE")
    elif case == "untracked":
        (repo / "notes.txt").write_text("mine\n")
    else:
        (repo / ".git/info/exclude").write_text("build/\n")
        (repo / "build").mkdir()
        (repo / "build/cache.txt").write_text("mine\n")
    before = tree_files(repo)
    code, _, err = _publish(out, "--repo", repo, env=env)
    assert code == 2 and "uncommitted changes" in err, err
    assert tree_files(repo) == before and _commits(repo) == head


@pytest.mark.parametrize("case,expect", [
    ("edit", "1 file(s) edited: third_party/tensorrt_llm/syn/log.h"),
    ("delete", "1 file(s) missing: third_party/tensorrt_llm/syn/types.h"),
    ("add", "1 file(s) not in the lock: third_party/tensorrt_llm/syn/new.h"),
])
def test_tampered_tree_is_refused(extracted: tuple[Path, Path, Path], tmp_path: Path, env: dict[str, str],
                                  case: str, expect: str) -> None:
    _, out, _ = extracted
    t = tmp_path / "t"
    shutil.copytree(out, t)
    tamper(t, case)
    for repo in (tmp_path / "r", t):  # a separate repository, and in place
        code, _, err = _publish(t, *(["--repo", repo] if repo != t else []), env=env)
        assert code == 2 and "does not match its lock" in err and expect in err, err
        assert not (repo / ".git").exists()


def test_publish_in_place(extracted: tuple[Path, Path, Path], tmp_path: Path, env: dict[str, str]) -> None:
    _, out, _ = extracted
    d = tmp_path / "d"
    shutil.copytree(out, d)
    code, stdout, err = _publish(d, "--tag", "v1", env=env)
    assert code == 0 and "new repository" in stdout, err
    assert _committed(d) == tree_files(out)  # .git itself is not part of it
    assert git(d, "status", "--porcelain") == ""
    code, stdout, _ = _publish(d, env=env)
    assert code == 0 and "nothing to publish" in stdout and len(_commits(d)) == 1
    # in place, the tree is the work tree: what the user staged by hand is refused
    git(d, "rm", "-q", "--cached", "NOTICE")
    code, _, err = _publish(d, env=env)
    assert code == 2 and "staged changes" in err


def test_publish_replaces_an_existing_repositorys_files(extracted: tuple[Path, Path, Path], fg_only: Path,
                                                        tmp_path: Path, env: dict[str, str]) -> None:
    """A repository with history of its own: the new commit holds the tree and nothing else; a newer
    extraction is the next commit, with files it no longer has removed."""
    out = extracted[1]
    repo = tmp_path / "r"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "old.txt").write_text("old\n")
    (repo / ".gitignore").write_text("*.o\n")
    (repo / "sub").mkdir()
    (repo / "sub/x.o").write_text("tracked despite the ignore rule\n")
    git(repo, "add", "-f", ".")
    git(repo, "commit", "-q", "-m", "history")
    code, _, err = _publish(out, "--repo", repo, "-m", "Vendor the kernels\n\nSigned-off-by: A <a@example.com>",
                            env=env)
    assert code == 0, err
    assert _committed(repo) == tree_files(out) and tree_files(repo) == tree_files(out)
    assert len(_commits(repo)) == 2
    assert git(repo, "log", "-1", "--format=%s") == "Vendor the kernels"
    trailers = _trailers(repo)
    assert trailers["Signed-off-by"] == "A <a@example.com>" and trailers["CUTLASS"]  # one trailer block
    # fg only: pc's runner TU and its kernels go
    fg = fg_only
    code, stdout, err = _publish(fg, "--repo", repo, "--tag", "fg", env=env)
    assert code == 0 and "published" in stdout, err
    assert _committed(repo) == tree_files(fg) and len(_commits(repo)) == 3
    gone = set(tree_files(out)) - set(tree_files(fg))
    assert "third_party/tensorrt_llm/syn/runner_b.cu" in gone
    assert not any((repo / p).exists() for p in gone)
    assert "fg" in git(repo, "tag", "--points-at", "HEAD").split()


def test_new_provenance_is_recorded_after_an_upstream_update(extracted: tuple[Path, Path, Path], tmp_path: Path,
                                                              env: dict[str, str]) -> None:
    """The issue's loop: extract, publish; upstream moves; extract --force, publish records the new commit."""
    up, out, cache = extracted
    mine = tmp_path / "up"
    shutil.copytree(up, mine, symlinks=True)
    tree, repo = tmp_path / "tree", tmp_path / "repo"
    shutil.copytree(out, tree)  # what extracting the copy gives: the lock holds no machine path
    assert _publish(tree, "--repo", repo, env=env)[0] == 0
    (mine / "cpp/syn/log.h").write_text((mine / "cpp/syn/log.h").read_text() + "// newer\n")
    new_commit = commit_all(mine, "newer")
    assert extract(mine, tree, cache, "--force").code == 0
    code, _, err = _publish(tree, "--repo", repo, env=env)
    assert code == 0, err
    assert _trailers(repo)["Vendored-From"] == f"{REMOTE}@{new_commit}"
    assert git(repo, "diff", "--name-only", "HEAD~1", "HEAD").split() == [
        "NOTICE", "README.md", "sbom.cdx.json", "third_party/tensorrt_llm/syn/log.h", "vendor.lock.json"]


@pytest.mark.parametrize("case", ["inside", "contains", "file", "not-a-repo"])
def test_bad_repo_path_is_refused(extracted: tuple[Path, Path, Path], tmp_path: Path, env: dict[str, str],
                                  case: str) -> None:
    _, out, _ = extracted
    t = tmp_path / "parent" / "t"
    shutil.copytree(out, t)
    if case == "inside":
        repo = t / "repo"
    elif case == "contains":
        repo = tmp_path / "parent"
    elif case == "file":
        repo = tmp_path / "f"
        repo.write_text("mine")
    else:
        repo = tmp_path / "mine"
        repo.mkdir()
        (repo / "keep.txt").write_text("mine")
    before = tree_files(tmp_path)
    code, _, err = _publish(t, "--repo", repo, env=env)
    assert code == 2 and str(repo) in err, err
    assert tree_files(tmp_path) == before


def test_cutlass_remote_is_a_url(extracted: tuple[Path, Path, Path]) -> None:
    lock = json.loads((extracted[1] / "vendor.lock.json").read_text())
    assert lock["upstream"]["cutlass"]["remote"] == CUTLASS_REMOTE


def test_in_place_repository_survives_verify_and_extract_force(extracted: tuple[Path, Path, Path], tmp_path: Path,
                                                                env: dict[str, str]) -> None:
    """A tree published in place stays verifiable, and re-extracting it with --force keeps its history."""
    up, out, cache = extracted
    d = tmp_path / "d"
    shutil.copytree(out, d)
    code, _, err = _publish(d, env=env)
    assert code == 0, err
    r = run_cli("verify", d, "--no-build")
    assert r.code == 0, r.err  # .git is not an extra file
    r = run_cli("extract", "--trtllm", up, "--rules", up / "rules.toml", "--out", d, "--force", cache=cache)
    assert r.code == 0 and "replaced" in r.out, r.err  # fg only: a different tree
    assert len(_commits(d)) == 1  # the repository was carried into the new tree
    code, stdout, err = _publish(d, env=env)
    assert code == 0 and len(_commits(d)) == 2, stdout + err
