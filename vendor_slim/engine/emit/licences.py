"""Licences: the licence each file states, and each upstream's own licence file."""

from __future__ import annotations

from pathlib import Path

from vendor_slim.engine.emit.tree import read_upstream

LICENSE_FILES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "COPYING")


TOOL_LICENSE = "Apache-2.0"  # the tool-owned API, build and docs follow TensorRT-LLM's licence


def detect_license(text: str, default: str) -> str:
    """The licence a file's header states (SPDX tag or the licence's own words), else DEFAULT."""
    head = text[:4000]
    if "SPDX-License-Identifier:" in head:
        tag = head.split("SPDX-License-Identifier:", 1)[1].split()[0].strip("*/ ")
        if tag:
            return tag
    if "Apache License" in head and "2.0" in head:
        return "Apache-2.0"
    if "Redistribution and use in source and binary forms" in head or "BSD-3-Clause" in head:
        return "BSD-3-Clause"
    if "Permission is hereby granted, free of charge" in head:
        return "MIT"
    return default


def root_license(root: Path) -> tuple[Path | None, str]:
    for name in LICENSE_FILES:
        p = root / name
        if p.is_file():
            return p, detect_license(read_upstream(p).decode(errors="replace"), "NOASSERTION")
    return None, "NOASSERTION"
