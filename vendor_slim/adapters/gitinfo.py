"""Provenance read with gitpython: remote, commit, dirtiness of an upstream checkout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GitInfo:
    remote: str | None
    commit: str | None
    dirty: bool


def git_info(path: Path) -> GitInfo:
    """Facts of the repository whose top level is exactly `path`; nulls when it is not one."""
    try:
        import git
    except ImportError:
        return GitInfo(None, None, False)
    try:
        repo = git.Repo(path, search_parent_directories=False)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, OSError):
        return GitInfo(None, None, False)
    try:
        commit = repo.head.commit.hexsha
    except (ValueError, git.GitError):
        commit = None
    remote = None
    try:
        if repo.remotes:
            remote = next(iter(repo.remotes[0].urls), None)
    except git.GitError:
        remote = None
    try:
        # Untracked files do not change what the build reads from tracked paths. Not is_dirty():
        # its `git diff` refreshes and rewrites the user's .git/index; `git status` with optional
        # locks off only reads.
        repo.git.update_environment(GIT_OPTIONAL_LOCKS="0")
        dirty = bool(repo.git.status("--porcelain", "--untracked-files=no").strip())
    except git.GitError:
        dirty = False
    return GitInfo(remote, commit, dirty)


def gitlink(superproject: Path, sub: Path) -> str | None:
    """The commit SUPERPROJECT's HEAD records for the submodule at SUB (its gitlink); None when SUB is
    not a submodule path of it or either is not a repository."""
    try:
        import git
    except ImportError:
        return None
    try:
        rel = sub.resolve().relative_to(superproject.resolve()).as_posix()
        repo = git.Repo(superproject, search_parent_directories=False)
        line = repo.git.ls_tree("HEAD", "--", rel)
    except (ValueError, git.InvalidGitRepositoryError, git.NoSuchPathError, git.GitError, OSError):
        return None
    parts = line.split()
    return parts[2] if len(parts) >= 3 and parts[0] == "160000" and parts[1] == "commit" else None
