"""Graph exports of the include graph: DOT, GraphML, node-link JSON (deterministic)."""

from __future__ import annotations

import json
from typing import Any, Literal

import networkx as nx

from vendor_slim.errors import BadInput

GraphFormat = Literal["dot", "graphml", "json"]


def export_graph(graph: Any, fmt: GraphFormat) -> str:
    """The include graph as Graphviz dot, GraphML or node-link JSON; deterministic output."""
    ordered: Any = nx.DiGraph()
    for n in sorted(graph.nodes):
        attrs = graph.nodes[n]
        ordered.add_node(n, root=attrs.get("root") or "", kind=attrs.get("kind", ""),
                         tu=bool(attrs.get("tu", False)))
    for a, b in sorted(graph.edges):
        ordered.add_edge(a, b, line=int(graph[a][b].get("line", 0)))
    if fmt == "json":
        try:
            data = nx.node_link_data(ordered, edges="edges")
        except TypeError:  # networkx < 3.4 names the keyword `link`
            data = nx.node_link_data(ordered, link="edges")
        return json.dumps(data, indent=1, sort_keys=True) + "\n"
    if fmt == "graphml":
        return "\n".join(nx.generate_graphml(ordered)) + "\n"
    if fmt == "dot":
        return _dot(ordered)
    raise BadInput(f"unknown graph format {fmt!r}: use dot, graphml or json")


def _dot_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _dot(graph: Any) -> str:
    shapes = {"external": "ellipse", "unresolved": "octagon", "in-tree": "box"}
    lines = ["digraph includes {", "  node [fontname=\"monospace\"];"]
    for n, d in graph.nodes(data=True):
        attrs = [f"kind={_dot_quote(d['kind'])}", f"root={_dot_quote(d['root'])}",
                 f"shape={shapes.get(d['kind'], 'box')}"]
        if d["tu"]:
            attrs.append("style=bold")
        lines.append(f"  {_dot_quote(n)} [{', '.join(attrs)}];")
    for a, b, d in graph.edges(data=True):
        lines.append(f"  {_dot_quote(a)} -> {_dot_quote(b)} [line={d['line']}];")
    lines.append("}")
    return "\n".join(lines) + "\n"
