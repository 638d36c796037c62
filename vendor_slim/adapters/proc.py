"""The one module that runs subprocesses (nvcc, cmake, the generator, nm)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from vendor_slim.errors import ExternalToolError


@dataclass(frozen=True)
class Completed:
    command: tuple[str, ...]
    returncode: int
    output: str


def run(
    command: Sequence[str],
    *,
    what: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    check: bool = True,
) -> Completed:
    """Run a command, stdout and stderr merged; raise ExternalToolError (exit 3) on failure."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    try:
        proc = subprocess.run(
            list(command),
            cwd=cwd,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise ExternalToolError(
            f"{what}: {command[0]} is not on PATH", command=command, returncode=127, output=str(exc)
        ) from exc
    except subprocess.TimeoutExpired as exc:
        out = exc.output if isinstance(exc.output, str) else ""
        raise ExternalToolError(
            f"{what}: timed out after {timeout} s", command=command, returncode=124, output=out
        ) from exc
    done = Completed(tuple(command), proc.returncode, proc.stdout)
    if check and proc.returncode != 0:
        raise ExternalToolError(f"{what} failed", command=command, returncode=proc.returncode, output=proc.stdout)
    return done
