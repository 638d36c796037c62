"""Files every target's emitted tree may share: the test programs' command line and the tactics file
(`templates/include/vendor_slim/` beside this module's `common/` folder, package data; docs/tactics.md).
A tree gets one of them only when one of its own tool-written files includes it, so that a tree whose
templates do not use them stays minimal (verify fails a vendored file no compile reads)."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path

COMMON_TEMPLATES = Path(str(resources.files("vendor_slim.targets") / "common" / "templates")).resolve()


def shared_files(own_texts: Iterable[str]) -> list[tuple[str, str]]:
    """(path in the tree, text) of each shared file that one of `own_texts` includes as "vendor_slim/NAME",
    or that another included shared file includes."""
    files = {p.relative_to(COMMON_TEMPLATES).as_posix(): p.read_text()
             for p in sorted(COMMON_TEMPLATES.rglob("*")) if p.is_file()}
    texts = list(own_texts)
    used: dict[str, str] = {}
    while True:
        more = {rel: text for rel, text in files.items() if rel not in used
                and any(f'"{rel.removeprefix("include/")}"' in t for t in [*texts, *used.values()])}
        if not more:
            return sorted(used.items())
        used.update(more)
