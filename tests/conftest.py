"""Fixtures that locate or download the real trees (never committed to this repository).

C1 (the FlashInfer 0.7.2.post1 wheel) is downloaded from PyPI once into the cache; C2 (a TensorRT-LLM
checkout) comes from VENDOR_SLIM_TRTLLM, and tests that need it skip with that reason when it is unset.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

C1_VERSION = "0.7.2.post1"


def cache_root() -> Path:
    base = os.environ.get("VENDOR_SLIM_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "vendor-slim"
    )
    return Path(base)


def ensure_c1() -> Path:
    """The unpacked `flashinfer/` folder of the wheel; downloads it on first use."""
    env = os.environ.get("VENDOR_SLIM_C1")
    if env:
        return Path(env)
    dest = cache_root() / "corpora" / f"flashinfer-{C1_VERSION}"
    done = dest / ".complete"
    if not done.exists():
        dl = dest.parent / f"flashinfer-{C1_VERSION}-download"
        dl.mkdir(parents=True, exist_ok=True)
        wheels = list(dl.glob("flashinfer_python-*.whl"))
        if not wheels:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", f"flashinfer-python=={C1_VERSION}",
                 "-d", str(dl)],
                check=True,
            )
            wheels = list(dl.glob("flashinfer_python-*.whl"))
        with zipfile.ZipFile(wheels[0]) as zf:
            members = [m for m in zf.namelist() if m.startswith("flashinfer/")]
            zf.extractall(dest, members)
        done.write_text("ok\n")
    return dest / "flashinfer"


@pytest.fixture(scope="session")
def c1_root() -> Path:
    return ensure_c1()


@pytest.fixture(scope="session")
def c2_root() -> Path:
    env = os.environ.get("VENDOR_SLIM_TRTLLM")
    if not env or not Path(env, "cpp").is_dir():
        pytest.skip("C2 is not available: set VENDOR_SLIM_TRTLLM to a TensorRT-LLM checkout (see corpora.md)")
    return Path(env)
