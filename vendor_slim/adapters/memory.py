"""How much memory is free for compiles: the probe `verify` sizes `-j` with (injectable in tests)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

MemoryProbe = Callable[[], float]
"""Returns the available memory in GB."""

DEFAULT_GB = 8.0  # where /proc/meminfo cannot be read (not Linux): room for one heavy compile


def mem_available_gb(meminfo: Path = Path("/proc/meminfo")) -> float:
    """MemAvailable from /proc/meminfo, in GB (DEFAULT_GB where it cannot be read)."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024 / 1024
    except (OSError, ValueError, IndexError):
        pass
    return DEFAULT_GB
