"""The emitted tree's CycloneDX 1.5 SBOM (`sbom.cdx.json`) and licence summary, from plain data.

Deterministic like the rest of the tree: no timestamp, lists in a fixed order, and a serial number
that is a UUID5 of the rest of the tree's content (so the same tree gives the same SBOM, and a
different tree a different serial). Local-path remotes are machine paths and are left out; a URL
remote becomes an external reference (and, on GitHub, a purl).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

SBOM_NAME = "sbom.cdx.json"
TOOL_PART = "vendor-slim"  # the summary's key for the files vendor-slim writes itself

# SPDX identifiers that may go in CycloneDX's `license.id` (an enum); anything else goes in `name`.
_SPDX_IDS = frozenset({
    "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "BSL-1.0", "MIT", "MPL-2.0", "Zlib", "ISC", "Unlicense",
    "GPL-2.0-only", "GPL-2.0-or-later", "GPL-3.0-only", "GPL-3.0-or-later", "LGPL-2.1-only",
    "LGPL-2.1-or-later", "LGPL-3.0-only", "LGPL-3.0-or-later", "NCSA", "PSF-2.0", "CC0-1.0",
})

_GITHUB = re.compile(r"^(?:https?://|ssh://git@|git://|git@)github\.com[/:]([^/]+)/([^/]+?)(?:\.git)?/?$")
_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://[^/]+/|[\w.-]+@[\w.-]+:).+")


@dataclass(frozen=True)
class Component:
    """One upstream project as the tree vendors it."""

    ref: str  # bom-ref: trtllm | cutlass
    name: str  # display name: TensorRT-LLM | CUTLASS
    remote: str | None
    commit: str | None
    dirty: bool
    layout: str | None
    path: str  # where its files are in the tree (third_party/...)
    licenses: Mapping[str, int]  # licence -> number of vendored files under it


def license_summary(entries: Iterable[tuple[str | None, str]]) -> dict[str, dict[str, int]]:
    """Counts per licence per part: ENTRIES are (upstream name or None for tool-written, licence)."""
    out: dict[str, dict[str, int]] = {}
    for part, lic in entries:
        counts = out.setdefault(part or TOOL_PART, {})
        counts[lic] = counts.get(lic, 0) + 1
    return {part: dict(sorted(c.items())) for part, c in sorted(out.items())}


def summary_line(counts: Mapping[str, int]) -> str:
    """`118 files: Apache-2.0 117, NOASSERTION 1` (most files first, then by name)."""
    total = sum(counts.values())
    parts = ", ".join(f"{lic} {n}" for lic, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return f"{total} file{'s' if total != 1 else ''}: {parts}"


def is_url(remote: str | None) -> bool:
    """Whether a git remote is a URL (https, ssh, scp-like), not a local path or file:// URL."""
    return bool(remote) and not str(remote).startswith("file:") and bool(_URL.match(str(remote)))


def purl(c: Component) -> str | None:
    """pkg:github/OWNER/REPO@COMMIT for GitHub remotes; pkg:generic with the vcs_url otherwise."""
    if not is_url(c.remote) or not c.commit:
        return None
    assert c.remote is not None
    m = _GITHUB.match(c.remote)
    if m:
        return f"pkg:github/{m.group(1).lower()}/{m.group(2).lower()}@{c.commit}"
    vcs = quote(f"git+{c.remote}@{c.commit}", safe="")
    return f"pkg:generic/{quote(c.name.lower(), safe='')}@{c.commit}?vcs_url={vcs}"


def _licenses(counts: Mapping[str, int]) -> list[dict[str, Any]]:
    return [{"license": {"id": lic} if lic in _SPDX_IDS else {"name": lic}} for lic in sorted(counts)]


def _props(items: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": f"vendor-slim:{k}", "value": v} for k, v in items]


def render_sbom(*, name: str, library: str, tool_version: str, tool_license: str, tool_files: int,
                components: Sequence[Component], properties: Sequence[tuple[str, str]], seed: str) -> str:
    """The CycloneDX 1.5 JSON document. SEED (a digest of the rest of the tree) fixes the serial."""
    comps: list[dict[str, Any]] = []
    for c in components:
        comp: dict[str, Any] = {"type": "library", "bom-ref": c.ref, "name": c.name,
                                "version": c.commit or "unknown", "licenses": _licenses(c.licenses)}
        p = purl(c)
        if p:
            comp["purl"] = p
        if is_url(c.remote):
            comp["externalReferences"] = [{"type": "vcs", "url": c.remote}]
        props = [("path", c.path), ("files", str(sum(c.licenses.values()))), ("dirty", str(c.dirty).lower())]
        if c.layout:
            props.append(("layout", c.layout))
        props += [(f"license-count:{lic}", str(n)) for lic, n in sorted(c.licenses.items())]
        comp["properties"] = _props(props)
        comps.append(comp)
    doc: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'vendor-slim:{name}:{seed}')}",
        "version": 1,
        "metadata": {
            "tools": {"components": [{"type": "application", "name": "vendor-slim", "version": tool_version}]},
            "component": {
                "type": "library", "bom-ref": name, "name": name,
                "description": f"standalone tree of the {library} library extracted by vendor-slim; the parts "
                               "vendor-slim writes (build files, API, generated kernel TUs, docs) are this "
                               "component, the vendored upstream files are its components",
                "licenses": _licenses({tool_license: tool_files}),
                "properties": _props([("library", library), ("files", str(tool_files)), *properties]),
            },
        },
        "components": comps,
        "dependencies": [{"ref": name, "dependsOn": sorted(c.ref for c in components)},
                         *({"ref": c.ref, "dependsOn": []} for c in components)],
    }
    return json.dumps(doc, indent=2) + "\n"
