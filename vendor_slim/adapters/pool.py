"""Running CPU-bound calls (libclang parses) in a process pool."""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

R = TypeVar("R")


def run_calls(fn: Callable[..., R], calls: Sequence[tuple[Any, ...]], jobs: int) -> Iterator[tuple[int, R]]:
    """(index into CALLS, fn(*call)) for every call, in completion order; in this process when jobs <= 1."""
    if jobs <= 1:
        for i, args in enumerate(calls):
            yield i, fn(*args)
        return
    if not calls:
        return
    # fork where there is one: spawn would re-import the caller's __main__, which breaks scripts
    # without a __main__ guard; libclang keeps no threads alive between parses
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    with cf.ProcessPoolExecutor(max_workers=min(jobs, len(calls)), mp_context=ctx) as pool:
        futures = {pool.submit(fn, *args): i for i, args in enumerate(calls)}
        for fut in cf.as_completed(futures):
            yield futures[fut], fut.result()
