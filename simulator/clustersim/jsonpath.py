"""The JSONPath subset of CRD ``additionalPrinterColumns``.

The apiserver evaluates a printer column's ``jsonPath`` with k8s.io/client-go ``util/jsonpath``
after wrapping it in ``{...}`` (apiextensions-apiserver ``pkg/registry/customresource/
tableconvertor/tableconvertor.go``, release-1.33), and CRD validation only admits "simple" paths
(``pkg/apis/apiextensions/validation``: fields, ``[n]``, ``[*]`` and filters).  This module
evaluates exactly those: ``.a.b``, ``.a[0]``, ``.a[*].b``, ``.a[?(@.type=="Ready")].status`` (single
or double quotes, ``==`` / ``!=``, the filtered field itself a dotted path).

:func:`find` answers every match in document order; no match is an empty list.
"""
from __future__ import annotations

import re
from typing import Any, List, Tuple

_FILTER = re.compile(r"""^\?\(@((?:\.[A-Za-z0-9_\-]+)+)\s*(==|!=)\s*(?:"([^"]*)"|'([^']*)'|(-?[0-9.]+|true|false))\)$""")
Step = Tuple[str, Any]


class JsonPathError(ValueError):
    pass


def parse(path: str) -> List[Step]:
    """The steps of ``path``: ("field", name), ("index", n), ("all", None), ("filter", (fields, op, value))."""
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    steps: List[Step] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == ".":
            match = re.match(r"\.([A-Za-z0-9_\-]+)", text[position:])
            if not match:
                raise JsonPathError(f"unrecognized character in action at {position}: {path!r}")
            steps.append(("field", match.group(1)))
            position += match.end()
        elif char == "[":
            end = _closing_bracket(text, position)
            steps.append(_bracket(text[position + 1:end], path))
            position = end + 1
        else:
            raise JsonPathError(f"unrecognized identifier at {position}: {path!r}")
    return steps


def _closing_bracket(text: str, start: int) -> int:
    depth, quote = 0, ""
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return index
    raise JsonPathError(f"unclosed array expect ]: {text!r}")


def _bracket(inner: str, path: str) -> Step:
    inner = inner.strip()
    if inner == "*":
        return ("all", None)
    if re.fullmatch(r"-?[0-9]+", inner):
        return ("index", int(inner))
    match = _FILTER.match(inner)
    if match:
        fields = match.group(1).split(".")[1:]
        if match.group(3) is not None or match.group(4) is not None:
            value: Any = match.group(3) if match.group(3) is not None else match.group(4)
        else:
            literal = match.group(5)
            value = {"true": True, "false": False}.get(literal, literal)
            if isinstance(value, str):
                value = float(value) if "." in value else int(value)
        return ("filter", (fields, match.group(2), value))
    if (inner.startswith("'") and inner.endswith("'")) or (inner.startswith('"') and inner.endswith('"')):
        return ("field", inner[1:-1])
    raise JsonPathError(f"unsupported JSONPath expression [{inner}] in {path!r}")


def _dig(value: Any, fields: List[str]) -> Tuple[bool, Any]:
    for name in fields:
        if not isinstance(value, dict) or name not in value:
            return False, None
        value = value[name]
    return True, value


def _apply(step: Step, values: List[Any]) -> List[Any]:
    kind, argument = step
    out: List[Any] = []
    for value in values:
        if kind == "field":
            if isinstance(value, dict) and argument in value:
                out.append(value[argument])
        elif kind == "index":
            if isinstance(value, list) and -len(value) <= argument < len(value):
                out.append(value[argument])
        elif kind == "all":
            if isinstance(value, list):
                out.extend(value)
            elif isinstance(value, dict):
                out.extend(value.values())
        else:
            fields, operator, wanted = argument
            for item in value if isinstance(value, list) else ():
                found, got = _dig(item, fields)
                if found and ((got == wanted) if operator == "==" else (got != wanted)):
                    out.append(item)
    return out


def find(obj: Any, path: str) -> List[Any]:
    """Every value ``path`` selects in ``obj`` (an empty list when nothing matches)."""
    values = [obj]
    for step in parse(path):
        values = _apply(step, values)
        if not values:
            return []
    return values
