"""Line charts as PNG files, drawn and encoded here (zlib only): no plotting library to install, and the
same data gives the same bytes on every machine. Log-scale axes (log2 x for M, log10 y for times), one
chart per call, a legend beside the plot, text in a built-in 5x7 font (upper case)."""

from __future__ import annotations

import itertools
import math
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

RGB = tuple[int, int, int]

# 5x7 glyphs, one string of 7 rows of 5 columns each ('#' = ink).
_FONT_ROWS: dict[str, str] = {
    "A": ".###. #...# #...# ##### #...# #...# #...#", "B": "####. #...# #...# ####. #...# #...# ####.",
    "C": ".###. #...# #.... #.... #.... #...# .###.", "D": "####. #...# #...# #...# #...# #...# ####.",
    "E": "##### #.... #.... ####. #.... #.... #####", "F": "##### #.... #.... ####. #.... #.... #....",
    "G": ".###. #...# #.... #.### #...# #...# .####", "H": "#...# #...# #...# ##### #...# #...# #...#",
    "I": ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.", "J": "..### ...#. ...#. ...#. ...#. #..#. .##..",
    "K": "#...# #..#. #.#.. ##... #.#.. #..#. #...#", "L": "#.... #.... #.... #.... #.... #.... #####",
    "M": "#...# ##.## #.#.# #.#.# #...# #...# #...#", "N": "#...# #...# ##..# #.#.# #..## #...# #...#",
    "O": ".###. #...# #...# #...# #...# #...# .###.", "P": "####. #...# #...# ####. #.... #.... #....",
    "Q": ".###. #...# #...# #...# #.#.# #..#. .##.#", "R": "####. #...# #...# ####. #.#.. #..#. #...#",
    "S": ".#### #.... #.... .###. ....# ....# ####.", "T": "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
    "U": "#...# #...# #...# #...# #...# #...# .###.", "V": "#...# #...# #...# #...# #...# .#.#. ..#..",
    "W": "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.", "X": "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
    "Y": "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..", "Z": "##### ....# ...#. ..#.. .#... #.... #####",
    "0": ".###. #...# #..## #.#.# ##..# #...# .###.", "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
    "2": ".###. #...# ....# ...#. ..#.. .#... #####", "3": "####. ....# ....# .###. ....# ....# ####.",
    "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.", "5": "##### #.... ####. ....# ....# #...# .###.",
    "6": "..##. .#... #.... ####. #...# #...# .###.", "7": "##### ....# ...#. ..#.. .#... .#... .#...",
    "8": ".###. #...# #...# .###. #...# #...# .###.", "9": ".###. #...# #...# .#### ....# ...#. .##..",
    " ": "..... ..... ..... ..... ..... ..... .....", ".": "..... ..... ..... ..... ..... .##.. .##..",
    ",": "..... ..... ..... ..... .##.. ..#.. .#...", ":": "..... .##.. .##.. ..... .##.. .##.. .....",
    "-": "..... ..... ..... ##### ..... ..... .....", "_": "..... ..... ..... ..... ..... ..... #####",
    "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.", ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
    "/": "....# ....# ...#. ..#.. .#... #.... #....", "%": "##..# ##..# ...#. ..#.. .#... #..## #..##",
    "=": "..... ..... ##### ..... ##### ..... .....", "+": "..... ..#.. ..#.. ##### ..#.. ..#.. .....",
    "*": "..... #.#.# .###. ##### .###. #.#.# .....", "?": ".###. #...# ....# ...#. ..#.. ..... ..#..",
    "#": ".#.#. .#.#. ##### .#.#. ##### .#.#. .#.#.", "[": ".###. .#... .#... .#... .#... .#... .###.",
    "]": ".###. ...#. ...#. ...#. ...#. ...#. .###.", "<": "...#. ..#.. .#... #.... .#... ..#.. ...#.",
    ">": ".#... ..#.. ...#. ....# ...#. ..#.. .#...", "'": "..#.. ..#.. ..... ..... ..... ..... .....",
}
_FONT: dict[str, list[str]] = {c: rows.split() for c, rows in _FONT_ROWS.items()}

PALETTE: tuple[RGB, ...] = ((31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189), (255, 127, 14),
                            (23, 190, 207), (140, 86, 75), (227, 119, 194))


@dataclass(frozen=True)
class Series:
    label: str
    points: tuple[tuple[float, float], ...]  # (x, y), both > 0
    color: RGB
    dash: tuple[int, ...] = ()  # on/off lengths in pixels; () = solid
    width: int = 2
    marker: str = "square"  # square | circle | triangle | cross | none


@dataclass(frozen=True)
class Chart:
    title: str
    x_label: str
    y_label: str
    series: tuple[Series, ...]
    width: int = 1100
    height: int = 640


@dataclass
class _Canvas:
    w: int
    h: int
    px: bytearray = field(init=False)

    def __post_init__(self) -> None:
        self.px = bytearray(b"\xff" * (self.w * self.h * 3))

    def set(self, x: int, y: int, c: RGB) -> None:
        if 0 <= x < self.w and 0 <= y < self.h:
            i = (y * self.w + x) * 3
            self.px[i:i + 3] = bytes(c)

    def rect(self, x0: int, y0: int, x1: int, y1: int, c: RGB) -> None:
        for y in range(max(y0, 0), min(y1, self.h)):
            i = (y * self.w + max(x0, 0)) * 3
            n = min(x1, self.w) - max(x0, 0)
            if n > 0:
                self.px[i:i + 3 * n] = bytes(c) * n

    def stamp(self, x: float, y: float, size: int, c: RGB) -> None:
        x0, y0 = round(x - size / 2), round(y - size / 2)
        self.rect(x0, y0, x0 + size, y0 + size, c)

    def line(self, a: tuple[float, float], b: tuple[float, float], c: RGB, width: int = 1,
             dash: Sequence[int] = (), phase: float = 0.0) -> float:
        """A straight line; returns the dash phase at its end, so polylines keep their pattern."""
        length = math.hypot(b[0] - a[0], b[1] - a[1])
        steps = max(int(length * 2), 1)
        period = sum(dash)
        for s in range(steps + 1):
            t = s / steps
            pos = phase + t * length
            if period:
                r = pos % period
                on, acc = True, 0
                for seg in dash:
                    acc += seg
                    if r < acc:
                        break
                    on = not on
                if not on:
                    continue
            self.stamp(a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), width, c)
        return phase + length

    def text(self, x: int, y: int, s: str, c: RGB, scale: int = 2) -> int:
        """Draws `s` with its top-left at (x, y); returns the width drawn."""
        cx = x
        for ch in s.upper():
            rows = _FONT.get(ch, _FONT["?"])
            for ry, row in enumerate(rows):
                for rx, bit in enumerate(row):
                    if bit == "#":
                        self.rect(cx + rx * scale, y + ry * scale, cx + (rx + 1) * scale, y + (ry + 1) * scale, c)
            cx += 6 * scale
        return cx - x

    def marker(self, x: float, y: float, kind: str, c: RGB) -> None:
        if kind == "square":
            self.stamp(x, y, 8, c)
        elif kind == "circle":
            for dy in range(-4, 5):
                for dx in range(-4, 5):
                    if dx * dx + dy * dy <= 17:
                        self.set(round(x) + dx, round(y) + dy, c)
        elif kind == "triangle":
            for dy in range(0, 9):
                half = dy // 2
                self.rect(round(x) - half, round(y) - 4 + dy, round(x) + half + 1, round(y) - 3 + dy, c)
        elif kind == "cross":
            self.line((x - 5, y - 5), (x + 5, y + 5), c, 2)
            self.line((x - 5, y + 5), (x + 5, y - 5), c, 2)


def text_width(s: str, scale: int = 2) -> int:
    return 6 * scale * len(s)


def _png(w: int, h: int, rgb: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    stride = w * 3
    raw = b"".join(b"\x00" + rgb[y * stride:(y + 1) * stride] for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _fmt(v: float) -> str:
    if v >= 100:
        return f"{v:,.0f}".replace(",", "")
    if v >= 10:
        return f"{v:.0f}"
    return f"{v:.1f}" if v >= 1 else f"{v:.2f}"


def _y_ticks(lo: float, hi: float) -> list[float]:
    ticks = []
    e = math.floor(math.log10(lo))
    while 10.0 ** e <= hi:
        for f in (1, 2, 5):
            v = f * 10.0 ** e
            if lo <= v <= hi:
                ticks.append(v)
        e += 1
    return ticks


def render(chart: Chart) -> bytes:
    """The chart as PNG bytes. Raises ValueError when no series has a point."""
    pts = [p for s in chart.series for p in s.points if p[0] > 0 and p[1] > 0]
    if not pts:
        raise ValueError("nothing to plot")
    cv = _Canvas(chart.width, chart.height)
    legend_w = max((text_width(s.label) for s in chart.series), default=0) + 60
    left, top = 100, 72
    right, bottom = chart.width - legend_w - 20, chart.height - 70
    xs = sorted({p[0] for p in pts})
    x_lo, x_hi = math.log2(xs[0]), math.log2(xs[-1])
    if x_hi - x_lo < 1e-9:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    ys = [p[1] for p in pts]
    y_lo, y_hi = math.log10(min(ys) / 1.25), math.log10(max(ys) * 1.25)

    def to_px(x: float, y: float) -> tuple[float, float]:
        fx = (math.log2(x) - x_lo) / (x_hi - x_lo)
        fy = (math.log10(y) - y_lo) / (y_hi - y_lo)
        return left + 10 + fx * (right - left - 20), bottom - fy * (bottom - top)

    grid, axis, ink = (225, 225, 225), (60, 60, 60), (20, 20, 20)
    for v in _y_ticks(10 ** y_lo, 10 ** y_hi):
        _, py = to_px(xs[0], v)
        cv.line((left, py), (right, py), grid)
        label = _fmt(v)
        cv.text(left - 8 - text_width(label), round(py) - 7, label, axis)
    last_label_end = -1e9
    for x in xs:
        px, _ = to_px(x, 10 ** y_lo)
        cv.line((px, top), (px, bottom), grid)
        label = str(int(x)) if float(x).is_integer() else _fmt(x)
        lx = round(px - text_width(label) / 2)
        if lx > last_label_end + 6:  # skip labels that would overlap the previous one
            cv.text(lx, bottom + 10, label, axis)
            last_label_end = lx + text_width(label)
    cv.line((left, top), (left, bottom), axis, 2)
    cv.line((left, bottom), (right, bottom), axis, 2)
    cv.text(left + (right - left - text_width(chart.x_label)) // 2, bottom + 36, chart.x_label, ink)
    cv.text(left - 80, top - 26, chart.y_label, ink)
    cv.text(left - 80, 12, chart.title, ink)

    for s in chart.series:
        ps = sorted(p for p in s.points if p[0] > 0 and p[1] > 0)
        phase = 0.0
        for a, b in itertools.pairwise(ps):
            phase = cv.line(to_px(*a), to_px(*b), s.color, s.width, s.dash, phase)
        if s.marker != "none":
            for p in ps:
                cv.marker(*to_px(*p), s.marker, s.color)

    ly = top
    for s in chart.series:
        lx = right + 30
        cv.line((lx, ly + 7), (lx + 30, ly + 7), s.color, s.width, s.dash)
        if s.marker != "none":
            cv.marker(lx + 15, ly + 7, s.marker, s.color)
        cv.text(lx + 40, ly, s.label, ink)
        ly += 26
    return _png(cv.w, cv.h, bytes(cv.px))
