"""Server-side ``Table`` answers (``Accept: application/json;as=Table;v=v1;g=meta.k8s.io``).

What kubectl ``get`` asks for: the apiserver converts the object or list into a
``meta.k8s.io/v1`` Table (kubernetes/kubernetes release-1.33,
``staging/src/k8s.io/apiserver/pkg/endpoints/handlers/response.go`` ``transformObject`` /
``asTable``), with the columns of

* the built-in kind's printer (``printers.py``),
* a custom resource's ``additionalPrinterColumns`` (apiextensions-apiserver
  ``pkg/registry/customresource/tableconvertor/tableconvertor.go``): ``Name`` first, then the
  declared columns in order; without any declared column ``Name`` and ``Age``; ``date`` cells are
  human durations, ``integer``/``number``/``boolean`` cells typed values, ``string`` cells the
  printed value, a path without a match a ``null`` cell (kubectl prints ``<none>``);
* otherwise the default convertor (``staging/src/k8s.io/apiserver/pkg/registry/rest/table.go``):
  ``Name`` and ``Created At``.

``includeObject`` (``None``, ``Metadata`` — the default —, ``Object``) decides what each row
carries in ``object``: nothing, a ``PartialObjectMetadata``, or the whole object.
"""
from __future__ import annotations

import json
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import errors, jsonpath
from .kinds import Kind
from .printers import PRINTERS, Column, human_duration, parse_time

TABLE_VERSIONS = ("v1", "v1beta1")
INCLUDE_OBJECT = ("None", "Metadata", "Object")
DEFAULT_CRD_COLUMNS = ({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},)


def wanted_table_version(accept: Optional[str]) -> Optional[str]:
    """The Table version the ``Accept`` header asks for first (``v1`` / ``v1beta1``), or None.

    A client that also accepts plain JSON gets a Table anyway when it names one first, as the
    apiserver's negotiation picks the first media type it can serve."""
    for part in (accept or "").split(","):
        params = dict(p.strip().split("=", 1) for p in part.split(";")[1:] if "=" in p)
        if params.get("as") == "Table" and params.get("g") == "meta.k8s.io":
            if params.get("v") in TABLE_VERSIONS:
                return params["v"]
        elif part.split(";")[0].strip() in ("application/json", "*/*", "application/*"):
            return None
    return None


def _column_definitions(columns: Sequence[Column]) -> List[Dict[str, Any]]:
    return [{"name": name, "type": type_, "format": "name" if index == 0 and name == "Name" else "",
             "description": "", "priority": priority}
            for index, (name, type_, priority) in enumerate(columns)]


def _json_cell(type_: str, value: Any, now: float) -> Any:
    """``cellForJSONValue`` of the CRD table convertor."""
    if value is None:
        return None
    if type_ == "integer":
        return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if type_ == "number":
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if type_ == "boolean":
        return value if isinstance(value, bool) else None
    if type_ == "date":
        when = parse_time(value) if isinstance(value, str) else None
        return None if when is None else human_duration(now - when)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def custom_columns(kind: Kind) -> List[Dict[str, Any]]:
    return list(kind.printer_columns or DEFAULT_CRD_COLUMNS)


def custom_cells(obj: Dict[str, Any], columns: List[Dict[str, Any]], now: float) -> List[Any]:
    cells: List[Any] = [(obj.get("metadata") or {}).get("name", "")]
    for column in columns:
        try:
            found = jsonpath.find(obj, column["jsonPath"])
        except jsonpath.JsonPathError:
            found = []
        cells.append(_json_cell(column.get("type", "string"), found[0], now) if found else None)
    return cells


def _converter(kind: Kind) -> Tuple[List[Column], Any]:
    printer = PRINTERS.get(kind.key) if kind.builtin else None
    if printer is not None:
        return printer
    if kind.builtin:
        return ([("Name", "string", 0), ("Created At", "date", 0)],
                lambda obj, now: [(obj.get("metadata") or {}).get("name", ""),
                                  (obj.get("metadata") or {}).get("creationTimestamp", "")])
    columns = custom_columns(kind)
    definitions = [("Name", "string", 0)] + [(c["name"], c.get("type", "string"), int(c.get("priority") or 0))
                                             for c in columns]
    return definitions, lambda obj, now: custom_cells(obj, columns, now)


def _row_object(obj: Dict[str, Any], include: str, version: str) -> Optional[Dict[str, Any]]:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {"kind": "PartialObjectMetadata", "apiVersion": f"meta.k8s.io/{version}",
            "metadata": obj.get("metadata") or {}}


def to_table(kind: Kind, answer: Dict[str, Any], version: str, include: Optional[str],
             now: Optional[float] = None) -> Dict[str, Any]:
    """The Table for a get (one object) or list answer of ``kind``."""
    include = include or "Metadata"
    if include not in INCLUDE_OBJECT:
        raise errors.bad_request(f'Invalid value: "{include}": must be one of None, Metadata, Object')
    now = time.time() if now is None else now
    columns, cells = _converter(kind)
    is_list = "items" in answer and answer.get("kind", "").endswith("List")
    objects = answer["items"] if is_list else [answer]
    rows = []
    for obj in objects:
        row: Dict[str, Any] = {"cells": cells(obj, now)}
        shown = _row_object(obj, include, version)
        if shown is not None:
            row["object"] = shown
        rows.append(row)
    metadata: Dict[str, Any] = {}
    if is_list:
        metadata = {k: v for k, v in (answer.get("metadata") or {}).items()
                    if k in ("resourceVersion", "continue", "remainingItemCount")}
    else:
        metadata = {"resourceVersion": (answer.get("metadata") or {}).get("resourceVersion", "")}
    return {"kind": "Table", "apiVersion": f"meta.k8s.io/{version}", "metadata": metadata,
            "columnDefinitions": _column_definitions(columns), "rows": rows}

