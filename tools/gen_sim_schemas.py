"""Generate the simulator's schema files (``simulator/clustersim/schemas/*.json``) from upstream.

Every kind the simulator serves gets one JSON file with its names, scope, subresources, printer
columns and its structural schema (types, enums, required, formats, defaults, ``x-kubernetes-*``
markers, validations; no description text).  What to read for each kind is listed in
``tools/sim_schemas/sources.yaml``; the inputs are upstream files:

* ``crd``        a CustomResourceDefinition YAML (one or several documents);
* ``go-crds``    a Go file holding a map of CRD YAML strings (CDI's ``crds_generated.go``);
* ``go-schemas`` a Go file holding a map of ``openAPIV3Schema`` YAML strings (KubeVirt's
  ``validations_generated.go``); names and subresources then come from the manifest;
* ``swagger``    an OpenAPI v2 document (the Kubernetes API): ``$ref``s are resolved into one
  structural tree, free-form types become ``x-kubernetes-preserve-unknown-fields``;
* ``manual``     a schema written under ``tools/sim_schemas/manual`` when upstream publishes no
  CRD (the manifest says from which Go types it was transcribed).

Upstream files are read from a local directory (``--shared``, the copies in ``../shared/crds``)
or from bare git mirrors (``--mirrors``, one ``<owner>+<name>/repo`` per repository) at the tag
or branch the manifest names.  Runs offline; the same inputs always give the same bytes.

    python tools/gen_sim_schemas.py --shared ../shared/crds --mirrors /work/.mirror
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MANIFEST = os.path.join(HERE, "sim_schemas", "sources.yaml")
DEFAULT_OUT = os.path.join(os.path.dirname(HERE), "simulator", "clustersim", "schemas")

# Schema keywords kept in the output; everything else (description, example, title, ...) goes.
SCALAR_KEYWORDS = frozenset({
    "type", "format", "enum", "default", "required", "nullable", "pattern", "minimum", "maximum",
    "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems",
    "uniqueItems", "minProperties", "maxProperties", "multipleOf"})
NODE_LIST_KEYWORDS = ("allOf", "anyOf", "oneOf")
PRESERVE = "x-kubernetes-preserve-unknown-fields"
# Swagger definitions that hold arbitrary JSON (kube-openapi renders them as a bare ``object``).
FREE_FORM_SUFFIXES = (".RawExtension", ".FieldsV1", ".Patch", ".JSON")
INT_OR_STRING_SUFFIXES = (".IntOrString", ".Quantity")
SWAGGER_MAX_DEPTH = 40


# --- structural schema normalisation ------------------------------------------------------------
def strip_schema(node: Any) -> Any:
    """A schema node without description text, keeping only structural and validation keywords."""
    if not isinstance(node, dict):
        return node
    out: Dict[str, Any] = {}
    for key, value in node.items():
        if value is None and key != "default":
            continue  # some generated CRDs spell an absent keyword as ``anyOf: null``
        if key == "properties":
            out[key] = {name: strip_schema(child) for name, child in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = strip_schema(value) if isinstance(value, dict) else value
        elif key in NODE_LIST_KEYWORDS:
            out[key] = [strip_schema(child) for child in value]
        elif key in SCALAR_KEYWORDS or key.startswith("x-kubernetes-"):
            out[key] = value
    return out


class SwaggerResolver:
    """Inlines ``$ref``s of an OpenAPI v2 document into structural schemas.

    A reference back into a definition already being expanded (recursive types) and anything
    deeper than ``SWAGGER_MAX_DEPTH`` becomes ``x-kubernetes-preserve-unknown-fields``."""

    def __init__(self, document: Dict[str, Any]) -> None:
        self.definitions: Dict[str, Any] = document["definitions"]

    def resolve(self, name: str) -> Dict[str, Any]:
        return self._definition(name, ())

    def _definition(self, name: str, stack: Tuple[str, ...]) -> Dict[str, Any]:
        if name in stack or len(stack) >= SWAGGER_MAX_DEPTH:
            return {PRESERVE: True}
        if name.endswith(FREE_FORM_SUFFIXES):
            return {"type": "object", PRESERVE: True}
        if name.endswith(INT_OR_STRING_SUFFIXES):
            return {"x-kubernetes-int-or-string": True}
        return self._node(self.definitions[name], stack + (name,))

    def _node(self, node: Dict[str, Any], stack: Tuple[str, ...]) -> Dict[str, Any]:
        if "$ref" in node:
            resolved = dict(self._definition(node["$ref"].rsplit("/", 1)[-1], stack))
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            resolved.update(strip_schema(siblings))
            return resolved
        out = strip_schema({k: v for k, v in node.items()
                            if k not in ("properties", "items", "additionalProperties")})
        if out.get("format") == "int-or-string":
            out = {"x-kubernetes-int-or-string": True}
        if "properties" in node:
            out["properties"] = {name: self._node(child, stack) for name, child in node["properties"].items()}
        if isinstance(node.get("items"), dict):
            out["items"] = self._node(node["items"], stack)
        additional = node.get("additionalProperties")
        if isinstance(additional, dict):
            out["additionalProperties"] = self._node(additional, stack)
        elif additional is True:
            out[PRESERVE] = True
        return out


# --- reading upstream ---------------------------------------------------------------------------
class Sources:
    """Reads upstream files from the local copies or from git mirrors, and remembers commits."""

    def __init__(self, shared: Optional[str], mirrors: Optional[str], manual: str) -> None:
        self.shared, self.mirrors, self.manual = shared, mirrors, manual
        self._cache: Dict[Tuple[str, str, str], str] = {}

    def git_dir(self, repository: str) -> str:
        if not self.mirrors:
            raise SystemExit(f"{repository}: pass --mirrors to read git mirrors")
        return os.path.join(self.mirrors, repository.replace("/", "+"), "repo")

    def commit(self, repository: str, ref: str) -> str:
        return subprocess.run(["git", "--git-dir", self.git_dir(repository), "rev-parse", f"{ref}^{{commit}}"],
                              check=True, capture_output=True, text=True).stdout.strip()

    def text(self, source: Dict[str, Any]) -> str:
        key = (source.get("repository", ""), source.get("ref", ""), source.get("local") or source["path"])
        if key not in self._cache:
            self._cache[key] = self._read(source)
        return self._cache[key]

    def _read(self, source: Dict[str, Any]) -> str:
        if source.get("manual"):
            with open(os.path.join(self.manual, source["manual"]), encoding="utf-8") as handle:
                return handle.read()
        if source.get("local"):
            if not self.shared:
                raise SystemExit(f"{source['local']}: pass --shared to read local upstream copies")
            with open(os.path.join(self.shared, source["local"]), encoding="utf-8") as handle:
                return handle.read()
        return subprocess.run(["git", "--git-dir", self.git_dir(source["repository"]), "show",
                               f"{source['ref']}:{source['path']}"], check=True, capture_output=True,
                              text=True).stdout

    def record(self, source: Dict[str, Any]) -> Dict[str, Any]:
        """The ``source`` block written into the JSON file."""
        record = {k: source[k] for k in ("repository", "path", "version", "note") if k in source}
        if source.get("ref") and not source.get("local"):
            record["version"] = source["ref"]
            record["commit"] = self.commit(source["repository"], source["ref"])
        if source.get("local"):
            record["readFrom"] = f"../shared/crds/{source['local']}"
        if source.get("manual"):
            record["transcribedTo"] = f"tools/sim_schemas/manual/{source['manual']}"
        return record


GO_MAP_KEY = re.compile(r'^\t"([A-Za-z0-9.-]+)": ', re.MULTILINE)
GO_LITERAL = re.compile(r'\s*(`[^`]*`|"(?:[^"\\]|\\.)*")\s*(\+)?')


def go_string_map(text: str) -> Dict[str, str]:
    """The ``"name": `yaml`,`` entries of a generated Go ``map[string]string`` literal; a value may
    be several literals joined with ``+`` (generators splice backticks in as ``"`"``)."""
    entries: Dict[str, str] = {}
    for key in GO_MAP_KEY.finditer(text):
        parts, position = [], key.end()
        while True:
            literal = GO_LITERAL.match(text, position)
            if not literal:
                break
            token = literal.group(1)
            parts.append(token[1:-1] if token[0] == "`" else json.loads(token))
            position = literal.end()
            if not literal.group(2):
                break
        if parts:
            entries[key.group(1)] = "".join(parts)
    return entries


def crd_documents(text: str) -> List[Dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(text) if isinstance(doc, dict)
            and doc.get("kind") == "CustomResourceDefinition"]


# --- building one entry -------------------------------------------------------------------------
def entry_from_crd(crd: Dict[str, Any], version: Optional[str]) -> Dict[str, Any]:
    """Names, scope and the served version's schema, subresources and printer columns of a CRD."""
    spec = crd["spec"]
    versions = [v for v in spec["versions"] if v.get("served", True)]
    chosen = next((v for v in versions if v["name"] == version), None) if version else \
        next((v for v in versions if v.get("storage")), versions[0])
    if chosen is None:
        raise SystemExit(f"{spec['names']['plural']}.{spec['group']}: no served version {version}")
    names = spec["names"]
    return {
        "group": spec["group"], "version": chosen["name"], "kind": names["kind"], "plural": names["plural"],
        "singular": names.get("singular", names["kind"].lower()), "scope": spec["scope"],
        "shortNames": names.get("shortNames", []), "categories": names.get("categories", []),
        "subresources": chosen.get("subresources", spec.get("subresources", {})),
        "additionalPrinterColumns": [strip_printer_column(c) for c in chosen.get(
            "additionalPrinterColumns", spec.get("additionalPrinterColumns", []))],
        "schema": strip_schema((chosen.get("schema") or spec.get("validation") or {}).get(
            "openAPIV3Schema", {"type": "object", PRESERVE: True})),
    }


def strip_printer_column(column: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in column.items() if k != "description"}


def entry_from_names(item: Dict[str, Any], schema: Dict[str, Any]) -> Dict[str, Any]:
    """An entry whose names come from the manifest (swagger, go-schemas and manual inputs)."""
    return {
        "group": item.get("group", ""), "version": item["version"], "kind": item["kind"],
        "plural": item.get("plural"), "singular": item.get("singular", item["kind"].lower()),
        "scope": item.get("scope", "Namespaced"), "shortNames": item.get("shortNames", []),
        "categories": item.get("categories", []), "subresources": item.get("subresources", {}),
        "additionalPrinterColumns": item.get("additionalPrinterColumns", []), "schema": schema,
    }


def pick_crd(documents: Iterable[Dict[str, Any]], item: Dict[str, Any]) -> Dict[str, Any]:
    for crd in documents:
        if crd["spec"]["names"]["plural"] == item["plural"] and crd["spec"]["group"] == item["group"]:
            return crd
    raise SystemExit(f"no CRD for {item['plural']}.{item['group']} in {item['source']}")


def build_entry(item: Dict[str, Any], sources: Sources,
                swagger: Callable[[Dict[str, Any]], SwaggerResolver]) -> Dict[str, Any]:
    source, form = item["source"], item["source"]["form"]
    if form == "crd":
        entry = entry_from_crd(pick_crd(crd_documents(sources.text(source)), item), item.get("version"))
    elif form == "go-crds":
        crd = yaml.safe_load(go_string_map(sources.text(source))[source["entry"]])
        entry = entry_from_crd(pick_crd([crd], item), item.get("version"))
    elif form == "go-schemas":
        schema = yaml.safe_load(go_string_map(sources.text(source))[source["entry"]])["openAPIV3Schema"]
        entry = entry_from_names(item, strip_schema(schema))
    elif form == "swagger":
        entry = entry_from_names(item, swagger(source).resolve(source["definition"]))
    elif form == "manual":
        entry = entry_from_names(item, strip_schema(yaml.safe_load(sources.text(source))))
    else:
        raise SystemExit(f"unknown source form {form!r}")
    return {"source": sources.record(source), **entry}


# --- output -------------------------------------------------------------------------------------
TOP_LEVEL_ORDER = ("source", "group", "version", "kind", "plural", "singular", "scope", "shortNames",
                   "categories", "subresources", "additionalPrinterColumns", "schema")


def render(entry: Dict[str, Any]) -> str:
    """Deterministic JSON: one top-level key per line, each value compact with sorted keys."""
    lines = [f"{json.dumps(key)}:{json.dumps(entry[key], sort_keys=True, separators=(',', ':'))}"
             for key in TOP_LEVEL_ORDER if key in entry]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def file_name(entry: Dict[str, Any]) -> str:
    resource = entry["plural"] or entry["kind"].lower()
    return f"{entry['group'] or 'core'}_{resource}.json"


def generate(manifest: Dict[str, Any], sources: Sources) -> Dict[str, str]:
    """File name -> file content for every item of the manifest."""
    resolvers: Dict[Tuple[str, str, str], SwaggerResolver] = {}

    def swagger(source: Dict[str, Any]) -> SwaggerResolver:
        key = (source.get("repository", ""), source.get("ref", ""), source.get("local") or source["path"])
        if key not in resolvers:
            resolvers[key] = SwaggerResolver(json.loads(sources.text(source)))
        return resolvers[key]

    files: Dict[str, str] = {}
    for item in manifest["kinds"]:
        item = {**item, "source": {**manifest.get("sources", {}).get(item["source"], {}), **item.get("from", {})}
                if isinstance(item["source"], str) else item["source"]}
        entry = build_entry(item, sources, swagger)
        files[file_name(entry)] = render(entry)
    return files


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", default=DEFAULT_MANIFEST)
    parser.add_argument("--shared", help="directory with local upstream copies (../shared/crds)")
    parser.add_argument("--mirrors", help="directory of bare git mirrors, <owner>+<name>/repo")
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--check", action="store_true", help="fail if the committed files differ")
    args = parser.parse_args(argv)
    with open(args.manifest, encoding="utf-8") as handle:
        manifest = yaml.safe_load(handle)
    manual = os.path.join(os.path.dirname(os.path.abspath(args.manifest)), "manual")
    files = generate(manifest, Sources(args.shared, args.mirrors, manual))
    return write_or_check(files, args.out, args.check)


def write_or_check(files: Dict[str, str], out: str, check: bool) -> int:
    stale = []
    os.makedirs(out, exist_ok=True)
    for name, content in sorted(files.items()):
        path = os.path.join(out, name)
        current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if current != content:
            stale.append(name)
            if not check:
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(content)
    extra = sorted(n for n in os.listdir(out) if n.endswith(".json") and n not in files)
    for name in extra:
        print(f"not generated (remove or add to the manifest): {name}", file=sys.stderr)
    print(f"{len(files)} schema files, {len(stale)} {'differ' if check else 'written'}", file=sys.stderr)
    return 1 if check and (stale or extra) else 0


if __name__ == "__main__":
    sys.exit(main())
