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
