"""The clock timings are read from (injectable: a test gives a fake one for exact durations)."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]
"""Seconds from an arbitrary origin, monotonic."""

monotonic: Clock = time.perf_counter
