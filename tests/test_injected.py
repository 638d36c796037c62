"""The injected dependencies (nvcc locator, memory probe, clock) with fakes: each decision they drive."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from vendor_slim.adapters import memory
from vendor_slim.adapters.nvcc import locate_nvcc
from vendor_slim.engine.verify import TU_PEAK_GB, choose_jobs
from vendor_slim.errors import BadInput


def _fake_nvcc(d: Path) -> Path:
    p = d / "bin" / "nvcc"
    p.parent.mkdir(parents=True)
    p.write_text("#!/bin/sh\n")
    p.chmod(0o755)
    return p


def test_nvcc_order_cuda_home_then_path_then_fallbacks(tmp_path: Path) -> None:
    home, on_path, fallback = (_fake_nvcc(tmp_path / n) for n in ("home", "path", "fallback"))
    path = str(on_path.parent)
    assert locate_nvcc({"CUDA_HOME": str(tmp_path / "home"), "PATH": path}, [str(fallback)]) == str(home)
    assert locate_nvcc({"CUDA_PATH": str(tmp_path / "home"), "PATH": path}, []) == str(home)
    assert locate_nvcc({"CUDA_HOME": str(tmp_path / "nowhere"), "PATH": path}, [str(fallback)]) == str(on_path)
    assert locate_nvcc({"PATH": str(tmp_path)}, [str(tmp_path / "absent"), str(fallback)]) == str(fallback)


def test_nvcc_fallbacks_come_from_the_environment(tmp_path: Path) -> None:
    fallback = _fake_nvcc(tmp_path / "fb")
    env = {"PATH": str(tmp_path), "VENDOR_SLIM_NVCC_FALLBACKS": os.pathsep.join([str(tmp_path / "x"), str(fallback)])}
    assert locate_nvcc(env) == str(fallback)
    with pytest.raises(BadInput, match="nvcc was not found: set CUDA_HOME or put nvcc on PATH"):
        locate_nvcc({"PATH": str(tmp_path), "VENDOR_SLIM_NVCC_FALLBACKS": ""})


def test_memory_probe_reads_meminfo(tmp_path: Path) -> None:
    info = tmp_path / "meminfo"
    info.write_text("MemTotal:       32000000 kB\nMemAvailable:   16777216 kB\n")
    assert memory.mem_available_gb(info) == 16.0
    info.write_text("MemTotal: 1 kB\n")
    assert memory.mem_available_gb(info) == memory.DEFAULT_GB
    assert memory.mem_available_gb(tmp_path / "absent") == memory.DEFAULT_GB


def test_jobs_follow_the_memory_probe() -> None:
    assert choose_jobs(None, 3, memory=lambda: 4 * TU_PEAK_GB + 1, cores=16) == 4
    assert choose_jobs(None, 3, memory=lambda: 1.0, cores=16) == 1  # always at least one
    assert choose_jobs(None, 3, memory=lambda: 100 * TU_PEAK_GB, cores=2) == 2  # capped by cores
    assert choose_jobs(3, 3, memory=lambda: 3 * TU_PEAK_GB, cores=2) == 3  # as asked, when it fits
    with pytest.raises(BadInput, match=r"--jobs 3 needs up to 26 GB .* use --jobs 1"):
        choose_jobs(3, 5, memory=lambda: 10.0, cores=16)
    assert choose_jobs(8, 0, memory=lambda: 1.0, cores=16) == 8  # no heavy TU: memory does not limit


def test_closure_seconds_come_from_the_clock(tmp_path: Path) -> None:
    from vendor_slim.engine.closure import compute_closure
    from vendor_slim.models import Roots

    ticks = iter([10.0, 12.5])
    rep = compute_closure([], Roots(tmp_path, tmp_path), jobs=1, cache_dir=tmp_path / "c", clock=lambda: next(ticks))
    assert rep.stats.seconds == 2.5
