"""`verify`: check an emitted tree (lock, hermetic build, minimality, link, GPU run); report/results.py writes
its results."""

from __future__ import annotations

from pathlib import Path

from vendor_slim.engine.verify import VerifyReport, verify


def run(directory: Path, *, jobs: int | None, no_build: bool, run_tests: bool, keep_build: Path | None) -> VerifyReport:
    return verify(directory, jobs=jobs, no_build=no_build, run=run_tests, keep_build=keep_build)
