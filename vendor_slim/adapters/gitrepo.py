"""Writing to a git repository with gitpython: what `publish` needs, each failure one ExternalToolError.

Every git command runs with `core.autocrlf=false` and `core.safecrlf=false`, so a user's line-ending
settings never change the bytes that are committed (publish also checks the staged blobs).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vendor_slim.errors import BadInput, ExternalToolError

DEFAULT_NAME = "vendor-slim"
DEFAULT_EMAIL = "vendor-slim@localhost"
_OPTS = ("-c", "core.autocrlf=false", "-c", "core.safecrlf=false")


def _git() -> Any:
    try:
        import git
    except ImportError as exc:  # gitpython is a dependency; its import fails without a git executable
        raise BadInput(f"git is not available: {exc}; install git") from exc
    return git


@contextmanager
def _errors(what: str) -> Iterator[None]:
    git = _git()
    try:
        yield
    except git.GitCommandError as exc:
        cmd = [str(c) for c in exc.command] if isinstance(exc.command, list | tuple) else [str(exc.command)]
        out = "\n".join(str(x) for x in (exc.stdout, exc.stderr) if x)
        raise ExternalToolError(f"git failed while {what}", command=cmd, returncode=int(exc.status or 1),
                                output=out) from exc


def blob_id(data: bytes, object_format: str = "sha1") -> str:
    """The object id git gives a file with these bytes (in a sha1 or sha256 repository)."""
    return hashlib.new(object_format, b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def object_format(r: Repo) -> str:
    """sha1 or sha256 (`git rev-parse --show-object-format`; older git knows only sha1)."""
    return "sha256" if r.ok("rev-parse", "--show-object-format") and r.run(
        "rev-parse", "--show-object-format", what="reading the object format") == "sha256" else "sha1"


@dataclass
class Repo:
    """A repository with a work tree whose top level is `path`."""

    path: Path
    handle: Any  # git.Repo
    created: bool  # initialised by this run

    def run(self, *args: str, what: str, env: dict[str, str] | None = None) -> str:
        with _errors(what):
            out = self.handle.git.execute(["git", *_OPTS, *args], env=env, strip_newline_in_stdout=True)
        return str(out)

    def ok(self, *args: str) -> bool:
        """Whether a git command succeeds (for queries whose failure is an answer)."""
        git = _git()
        try:
            self.handle.git.execute(["git", *_OPTS, *args])
        except git.GitCommandError:
            return False
        return True


def open_repo(path: Path) -> Repo | None:
    """The repository whose top level is exactly PATH, or None (a parent's repository does not count)."""
    git = _git()
    try:
        handle = git.Repo(path, search_parent_directories=False)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    if handle.bare:
        raise BadInput(f"{path} is a bare git repository; give a repository with a work tree")
    top = Path(handle.working_tree_dir or "")
    if os.path.realpath(top) != os.path.realpath(path):
        return None
    return Repo(path, handle, created=False)


def init_repo(path: Path) -> Repo:
    git = _git()
    with _errors(f"initialising a repository at {path}"):
        handle = git.Repo.init(path)
    return Repo(path, handle, created=True)


def has_head(r: Repo) -> bool:
    return r.ok("rev-parse", "--verify", "-q", "HEAD^{commit}")


def head(r: Repo) -> str:
    return r.run("rev-parse", "HEAD", what="reading HEAD")


def head_is_detached(r: Repo) -> bool:
    return not r.ok("symbolic-ref", "-q", "HEAD")


def status(r: Repo, *, ignored: bool) -> list[str]:
    """Porcelain status lines: changes to tracked files, staged changes, untracked (and ignored) files."""
    args = ["status", "--porcelain", "--untracked-files=all"]
    if ignored:
        args.append("--ignored")
    out = r.run(*args, what="reading the repository's status", env={"GIT_OPTIONAL_LOCKS": "0"})
    return [line for line in out.splitlines() if line.strip()]


def staged_changes(r: Repo) -> list[str]:
    """Paths whose index entry differs from HEAD (all index entries when HEAD is unborn)."""
    if has_head(r):
        out = r.run("diff", "--cached", "--name-only", "HEAD", what="reading staged changes")
    else:
        out = r.run("ls-files", "--cached", what="reading the index")
    return [line for line in out.splitlines() if line]


def valid_tag_name(tag: str) -> bool:
    git = _git()
    try:
        git.Git().execute(["git", "check-ref-format", f"refs/tags/{tag}"])
    except git.GitCommandError:
        return False
    return not tag.startswith("-")


def tag_exists(r: Repo, tag: str) -> bool:
    return r.ok("rev-parse", "--verify", "-q", f"refs/tags/{tag}")


def stage_everything(r: Repo, exclude_dirs: Sequence[str] = ()) -> None:
    """Make the index exactly the work tree (additions, changes, deletions; ignore rules do not apply),
    except the top-level folders matching EXCLUDE_DIRS (glob patterns: the tree's build folders)."""
    excludes = [f":(top,exclude,glob){d}/**" for d in exclude_dirs]
    r.run("add", "--all", "--force", "--", ".", *excludes, what="staging the tree")


def index_entries(r: Repo) -> dict[str, tuple[str, str]]:
    """path -> (mode, object id) for every index entry."""
    out = r.run("ls-files", "--stage", "-z", what="reading the index")
    entries: dict[str, tuple[str, str]] = {}
    for rec in out.split("\0"):
        if not rec:
            continue
        meta, path = rec.split("\t", 1)
        mode, oid, _stage = meta.split()
        entries[path] = (mode, oid)
    return entries


def index_tree(r: Repo) -> str:
    return r.run("write-tree", what="writing the index as a tree")


def head_tree(r: Repo) -> str | None:
    if not has_head(r):
        return None
    return r.run("rev-parse", "HEAD^{tree}", what="reading HEAD's tree")


def _config(r: Repo, key: str) -> str | None:
    git = _git()
    try:
        value = r.handle.git.execute(["git", "config", "--get", key], strip_newline_in_stdout=True)
    except git.GitCommandError:
        return None
    return str(value) or None


def identity_env(r: Repo) -> dict[str, str]:
    """Author and committer as git would take them (environment, then author./committer., then user.
    configuration, then $EMAIL), with a fixed vendor-slim identity for whatever none of them gives, rather
    than one git would guess from the host name (or refuse to guess)."""
    env: dict[str, str] = {}
    for role in ("author", "committer"):
        up = role.upper()
        name = os.environ.get(f"GIT_{up}_NAME") or _config(r, f"{role}.name") or _config(r, "user.name")
        email = (os.environ.get(f"GIT_{up}_EMAIL") or _config(r, f"{role}.email") or _config(r, "user.email")
                 or os.environ.get("EMAIL"))
        env[f"GIT_{up}_NAME"] = name or DEFAULT_NAME
        env[f"GIT_{up}_EMAIL"] = email or DEFAULT_EMAIL
    return env


def commit(r: Repo, message: str) -> str:
    """Commit the index as it is (hooks do not run: the tree must be committed as it was checked)."""
    with _errors("committing"), _stdin(message) as stdin:
        r.handle.git.execute(["git", *_OPTS, "commit", "--quiet", "--no-verify", "--cleanup=verbatim", "-F", "-"],
                             istream=stdin, env=identity_env(r))
    return head(r)


@contextmanager
def _stdin(text: str) -> Iterator[Any]:
    with tempfile.TemporaryFile() as f:
        f.write(text.encode())
        f.seek(0)
        yield f


def tag(r: Repo, name: str, message: str, target: str) -> None:
    """An annotated tag NAME on TARGET."""
    with _errors(f"creating the tag {name}"), _stdin(message) as stdin:
        r.handle.git.execute(["git", *_OPTS, "tag", "--annotate", "--cleanup=verbatim", "-F", "-", name, target],
                             istream=stdin, env=identity_env(r))


def clear_work_tree(path: Path) -> None:
    """Remove everything at PATH but its `.git`."""
    for p in path.iterdir():
        if p.name == ".git":
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


def restore(r: Repo, *, work_tree: bool) -> None:
    """Undo what a failed publish did: the index (and with WORK_TREE the files) back to HEAD."""
    git = _git()
    try:
        if has_head(r):
            r.handle.git.execute(["git", *_OPTS, "reset", "-q", "--hard" if work_tree else "--mixed", "HEAD"])
            if work_tree:
                r.handle.git.execute(["git", *_OPTS, "clean", "-q", "-f", "-d", "-x"])
        else:
            r.handle.git.execute(["git", *_OPTS, "read-tree", "--empty"])
            if work_tree:
                clear_work_tree(r.path)
    except (git.GitCommandError, OSError):
        pass
