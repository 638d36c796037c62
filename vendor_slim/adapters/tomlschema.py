"""TOML files validated into frozen dataclasses (rules, profiles).

Every unknown key and every wrong type is an error naming the file, the dotted key and the expected
type; all errors of a file are collected and reported together.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from vendor_slim.errors import BadInput

T = TypeVar("T")


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is tuple:
        return f"array of {_describe(typing.get_args(tp)[0])}"
    if origin is dict:
        return f"table of {_describe(typing.get_args(tp)[1])}"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(tp) if a is not type(None))
    if dataclasses.is_dataclass(tp):
        return "table"
    return {str: "string", int: "integer", bool: "boolean", float: "float"}.get(tp, str(tp))


def _convert(tp: Any, value: Any, key: str, errors: list[str]) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(inner) == 1:  # an optional table or value
            return _convert(inner[0], value, key, errors)
    if origin is tuple:
        if not isinstance(value, list):
            errors.append(f"{key}: expected {_describe(tp)}, got {type(value).__name__}")
            return ()
        inner = typing.get_args(tp)[0]
        return tuple(_convert(inner, v, f"{key}[{i}]", errors) for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            errors.append(f"{key}: expected {_describe(tp)}, got {type(value).__name__}")
            return {}
        inner = typing.get_args(tp)[1]
        return {k: _convert(inner, v, f"{key}.{k}", errors) for k, v in sorted(value.items())}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, dict):
            errors.append(f"{key}: expected table, got {type(value).__name__}")
            return None
        return build(tp, value, key, errors, {})
    ok = isinstance(value, tp) and not (tp is int and isinstance(value, bool))
    if not ok:
        errors.append(f"{key}: expected {_describe(tp)}, got {type(value).__name__} {value!r}"[:200])
    return value


def build(cls: type[T], data: dict[str, Any], prefix: str, errors: list[str], extra: dict[str, Any]) -> T:
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = dict(extra)
    for key in sorted(data):
        dotted = f"{prefix}.{key}" if prefix else key
        if key not in fields or key in extra:
            errors.append(f"{dotted}: unknown key (allowed: {', '.join(sorted(set(fields) - set(extra)))})")
            continue
        kwargs[key] = _convert(hints[key], data[key], dotted, errors)
    for name, f in fields.items():
        no_default = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if name not in kwargs and no_default:
            dotted = f"{prefix}.{name}" if prefix else name
            errors.append(f"{dotted}: missing (expected {_describe(hints[name])})")
    if errors:
        return None  # type: ignore[return-value]
    return cls(**kwargs)


def read_toml(path: Path, what: str) -> tuple[dict[str, Any], bytes]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise BadInput(f"{what} {path} does not exist") from exc
    except (IsADirectoryError, PermissionError, OSError) as exc:
        raise BadInput(f"{what} {path} cannot be read: {exc.strerror or exc}") from exc
    try:
        return tomllib.loads(raw.decode("utf-8")), raw
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"{what} {path} is not valid TOML: {exc}") from exc


def invalid(path: Path, what: str, errors: list[str]) -> BadInput:
    return BadInput(f"invalid {what} {path}:\n" + "\n".join(f"  {e}" for e in errors))
