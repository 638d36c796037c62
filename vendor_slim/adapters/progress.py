"""Progress of the long steps, on stderr only (stdout holds the result: a table or the JSON document).

Stages report through `stage(name, total)`; the CLI decides how it shows (`configure`): with rich
when stderr is a terminal (a live line per stage: done/total and what is running), else one plain
line per stage when it ends; `-q` shows nothing, `-v` also one line per finished item. Library
callers that never configure get nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

QUIET, NORMAL, VERBOSE = 0, 1, 2


@dataclass
class _Config:
    level: int = QUIET
    rich: bool = False
    color: bool = False
    mode: str = "auto"
    stream: TextIO | None = None


_CFG = _Config()
_LIVE = False


def configure(level: int, *, color: str = "auto", stream: TextIO | None = None, no_color: bool = False) -> None:
    """LEVEL is QUIET, NORMAL or VERBOSE; COLOR auto|always|never (NO_COLOR, when set, turns auto off)."""
    out = stream or sys.stderr
    tty = bool(getattr(out, "isatty", lambda: False)())
    _CFG.level = level
    _CFG.stream = out
    _CFG.rich = tty and level > QUIET
    _CFG.color = color == "always" or (color == "auto" and tty and not no_color)
    _CFG.mode = color


def level() -> int:
    return _CFG.level


def color() -> bool:
    return _CFG.color


def color_mode() -> str:
    """--color as given: auto, always or never."""
    return _CFG.mode


@dataclass
class Stage:
    name: str
    total: int | None = None
    done: int = 0
    detail: str = ""
    note: str = ""  # what the end line adds (e.g. "from cache")
    start: float = field(default_factory=time.perf_counter)
    _task: Any = None
    _bar: Any = None

    def advance(self, n: int = 1, item: str | None = None) -> None:
        self.done += n
        if item and _CFG.level >= VERBOSE:
            _line(f"{self.name}: {item} ({self.done}/{self.total})" if self.total else f"{self.name}: {item}")
        self._refresh()

    def update(self, *, done: int | None = None, total: int | None = None, detail: str | None = None) -> None:
        if done is not None:
            self.done = done
        if total is not None:
            self.total = total
        if detail is not None:
            self.detail = detail
        self._refresh()

    def _refresh(self) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, total=self.total, detail=self.detail)


def _line(text: str) -> None:
    stream = _CFG.stream or sys.stderr
    stream.write(f"vendor-slim: {text}\n")
    stream.flush()


@contextmanager
def stage(name: str, total: int | None = None) -> Iterator[Stage]:
    """A long step: shown live on a terminal, as one line when it ends elsewhere."""
    st = Stage(name, total)
    if _CFG.level == QUIET:
        yield st
        return
    bar = None
    global _LIVE
    if _CFG.rich and not _LIVE:  # rich shows one live display at a time: a nested stage only counts
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        console = Console(file=_CFG.stream, no_color=not _CFG.color, highlight=False)
        bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TimeElapsedColumn(), TextColumn("{task.fields[detail]}"), console=console, transient=True)
        bar.start()
        _LIVE = True
        st._bar = bar
        st._task = bar.add_task(name, total=total, detail="")
    ok = False
    try:
        yield st
        ok = True
    finally:
        if bar is not None:
            bar.stop()
            _LIVE = False
        secs = time.perf_counter() - st.start
        count = f"{st.done}/{st.total}" if st.total is not None else (str(st.done) if st.done else "")
        parts = [p for p in (count, st.note, f"{secs:.1f} s") if p]
        _line(f"{name}: {'done' if ok else 'stopped'} ({', '.join(parts)})")
