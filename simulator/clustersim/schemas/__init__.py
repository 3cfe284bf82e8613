"""The schemas of the kinds the simulator serves, as data.

Each ``<group>_<plural>.json`` file here (``core_`` for the core group) was generated from an
upstream CRD or OpenAPI document by ``tools/gen_sim_schemas.py`` from the list in
``tools/sim_schemas/sources.yaml``, and records where it came from in ``source``.  Besides the
structural ``schema`` (descriptions stripped) a file carries the kind's names, scope,
subresources and printer columns as upstream declares them.  Do not edit these files by hand:
change the manifest and regenerate (see docs/simulator.md, "Schemas as data").

The files are read once per process; callers get shared, read-only dicts (``merge_schema`` and
``prune`` never modify a schema).
"""
from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

SCHEMA_DIR = os.path.dirname(os.path.abspath(__file__))


@dataclass(frozen=True)
class SchemaDoc:
    """One generated file: an upstream kind's names and structural schema."""

    file: str
    source: Dict[str, Any]
    group: str
    version: str
    kind: str
    plural: Optional[str]
    scope: str
    short_names: Tuple[str, ...]
    categories: Tuple[str, ...]
    subresources: Dict[str, Any]
    printer_columns: Tuple[Dict[str, Any], ...]
    schema: Dict[str, Any]

    @property
    def key(self) -> str:
        """The simulator's resource key (see ``kinds.py``); body-only kinds use their kind."""
        resource = self.plural or self.kind.lower()
        return f"{self.group}/{resource}" if self.group else resource

    @property
    def namespaced(self) -> bool:
        return self.scope == "Namespaced"


def _read(path: str) -> SchemaDoc:
    with open(path, encoding="utf-8") as handle:
        raw = json.load(handle)
    return SchemaDoc(
        file=os.path.basename(path), source=raw["source"], group=raw["group"], version=raw["version"],
        kind=raw["kind"], plural=raw.get("plural"), scope=raw["scope"],
        short_names=tuple(raw.get("shortNames") or ()), categories=tuple(raw.get("categories") or ()),
        subresources=raw.get("subresources") or {},
        printer_columns=tuple(raw.get("additionalPrinterColumns") or ()), schema=raw["schema"])


@functools.lru_cache(maxsize=None)
def load_all(directory: str = SCHEMA_DIR) -> Dict[str, SchemaDoc]:
    """Every schema file of ``directory`` by resource key."""
    docs = (_read(os.path.join(directory, name)) for name in sorted(os.listdir(directory))
            if name.endswith(".json"))
    return {doc.key: doc for doc in docs}


def schema_for(key: str) -> Optional[Dict[str, Any]]:
    """The structural schema of the kind with resource ``key``, or None when none is generated."""
    doc = load_all().get(key)
    return doc.schema if doc else None


def must_schema(key: str) -> Dict[str, Any]:
    doc = load_all().get(key)
    if doc is None:
        raise KeyError(f"no generated schema for {key!r} in {SCHEMA_DIR}; run tools/gen_sim_schemas.py")
    return doc.schema


def sources() -> List[Tuple[str, Dict[str, Any]]]:
    """(file, source record) of every file, for documentation and tests."""
    return [(doc.file, doc.source) for doc in load_all().values()]
