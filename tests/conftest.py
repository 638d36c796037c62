"""Fixtures that locate or download the real trees (never committed to this repository).

C1 (the FlashInfer 0.7.2.post1 wheel) is downloaded from PyPI once into the cache; C2 (a TensorRT-LLM
checkout) comes from VENDOR_SLIM_TRTLLM, and tests that need it skip with that reason when it is unset.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.corpora import C1_VERSION, cache_root, ensure_c1

__all__ = ["C1_VERSION", "cache_root", "ensure_c1"]


@pytest.fixture(scope="session")
def c1_root() -> Path:
    return ensure_c1()


@pytest.fixture(scope="session")
def c2_root() -> Path:
    env = os.environ.get("VENDOR_SLIM_TRTLLM")
    if not env or not Path(env, "cpp").is_dir():
        pytest.skip("C2 is not available: set VENDOR_SLIM_TRTLLM to a TensorRT-LLM checkout (see corpora.md)")
    return Path(env)
