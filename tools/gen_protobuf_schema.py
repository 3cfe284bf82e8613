"""Generate ``simulator/clustersim/protobuf_schema.json`` from the Kubernetes API sources.

kubectl 1.33 sends the bodies of its typed requests (``kubectl create configmap``, ``create
token``, ``drain``'s evictions, ``auth can-i``) as ``application/vnd.kubernetes.protobuf``.  To read
them the simulator needs, for every message, its field numbers and wire types (from
``generated.proto``) and how Go's JSON encoder would render the same struct (from the ``json:``
struct tags and pointer-ness in ``types.go``).  This tool reads both from git checkouts of
kubernetes/api and kubernetes/apimachinery at a tag and writes them as a compact JSON schema.

    python tools/gen_protobuf_schema.py --api /path/to/kubernetes/api.git \\
        --apimachinery /path/to/kubernetes/apimachinery.git --ref v0.33.9

Only GA group versions are kept (``v1``, ``v2``), plus the apimachinery packages they import.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
from typing import Dict, List, Optional, Tuple

OUTPUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "simulator", "clustersim", "protobuf_schema.json")
MACHINERY_PACKAGES = ("pkg/api/resource", "pkg/apis/meta/v1", "pkg/runtime", "pkg/runtime/schema", "pkg/util/intstr")
GA_VERSIONS = ("v1", "v2")
SCALARS = {"string", "bytes", "bool", "int32", "int64", "uint32", "uint64", "double", "float", "sint32", "sint64",
           "fixed32", "fixed64"}
FIELD = re.compile(r"^\s*(optional|repeated)\s+(\S+)\s+(\w+)\s*=\s*(\d+)\s*;")
MAP_FIELD = re.compile(r"^\s*map<\s*(\S+)\s*,\s*(\S+)\s*>\s+(\w+)\s*=\s*(\d+)\s*;")
STRUCT = re.compile(r"^type\s+(\w+)\s+struct\s*\{")
NAMED_TYPE = re.compile(r"^type\s+(\w+)\s+(\S+)\s*$")
GO_FIELD = re.compile(r"^\s*(?:(\w+)\s+)?(\*?[\w.\[\]*]+)\s+`([^`]*)`")
TAG = re.compile(r'(\w+):"([^"]*)"')


class Repo:
    def __init__(self, git_dir: str, ref: str) -> None:
        self.git_dir, self.ref = git_dir, ref

    def show(self, path: str) -> str:
        return subprocess.run(["git", "--git-dir", self.git_dir, "show", f"{self.ref}:{path}"], check=True,
                              capture_output=True, text=True).stdout

    def ls(self, directory: str) -> List[str]:
        out = subprocess.run(["git", "--git-dir", self.git_dir, "ls-tree", "--name-only", f"{self.ref}:{directory}"],
                             check=True, capture_output=True, text=True).stdout
        return out.split()


def parse_proto(text: str) -> Tuple[str, Dict[str, List[Tuple[int, str, str, str]]]]:
    """(package, {message: [(number, name, label, type)]}); map fields get type ``map<K,V>``."""
    package = re.search(r"^package\s+([\w.]+);", text, re.M).group(1)
    messages: Dict[str, List[Tuple[int, str, str, str]]] = {}
    current: Optional[str] = None
    for line in text.splitlines():
        start = re.match(r"^message\s+(\w+)\s*\{", line)
        if start:
            current = start.group(1)
            messages[current] = []
            continue
        if current is None:
            continue
        if line.startswith("}"):
            current = None
            continue
        field = FIELD.match(line)
        if field:
            label, type_, name, number = field.groups()
            messages[current].append((int(number), name, label, type_))
            continue
        mapped = MAP_FIELD.match(line)
        if mapped:
            key, value, name, number = mapped.groups()
            messages[current].append((int(number), name, "map", f"map<{key},{value}>"))
    return package, messages


def parse_go_fields(sources: List[str]) -> Tuple[Dict[str, Dict[str, Dict[str, object]]], set]:
    """{struct: {proto field name: {json, pointer, omitempty, inline}}} and the named non-struct types."""
    structs: Dict[str, Dict[str, Dict[str, object]]] = {}
    named = set()
    for text in sources:
        current: Optional[str] = None
        for line in text.splitlines():
            start = STRUCT.match(line)
            if start:
                current = start.group(1)
                structs.setdefault(current, {})
                continue
            other = NAMED_TYPE.match(line)
            if other and current is None:
                named.add(other.group(1))
                continue
            if current is None:
                continue
            if line.startswith("}"):
                current = None
                continue
            field = GO_FIELD.match(line)
            if not field:
                continue
            tags = dict(TAG.findall(field.group(3)))
            proto = dict(part.split("=", 1) for part in tags.get("protobuf", "").split(",") if "=" in part)
            json_tag = tags.get("json", "").split(",")
            if "name" not in proto and field.group(1) is None and "protobuf" in tags and "inline" in json_tag[1:]:
                embedded = field.group(2).lstrip("*").split(".")[-1]
                proto["name"] = embedded[0].lower() + embedded[1:]  # go-to-protobuf names embedded structs so
            if "name" not in proto:
                continue
            structs[current][proto["name"]] = {
                "json": json_tag[0], "omitempty": "omitempty" in json_tag[1:], "inline": "inline" in json_tag[1:],
                "pointer": field.group(2).startswith("*"),
            }
    return structs, named


def resolve(type_: str, package: str) -> str:
    if type_ in SCALARS:
        return type_
    return type_[1:] if type_.startswith(".") else f"{package}.{type_}"


def package_schema(proto_text: str, go_sources: List[str]) -> Tuple[str, Dict[str, object]]:
    package, messages = parse_proto(proto_text)
    structs, named = parse_go_fields(go_sources)
    out: Dict[str, object] = {}
    for message, fields in messages.items():
        go_fields = structs.get(message, {})
        if message not in structs and message in named and [f[1] for f in fields] == ["items"]:
            out[f"{package}.{message}"] = {"list": resolve(fields[0][3], package)}  # type X []T
            continue
        rows = []
        for number, name, label, type_ in fields:
            go = go_fields.get(name, {})
            flags = "".join(flag for flag, on in (("r", label == "repeated"), ("m", label == "map"),
                                                   ("p", go.get("pointer")), ("o", go.get("omitempty")),
                                                   ("i", go.get("inline"))) if on)
            if label == "map":
                key, value = type_[4:-1].split(",")
                type_ = f"{resolve(key, package)},{resolve(value, package)}"
            else:
                type_ = resolve(type_, package)
            rows.append([number, go.get("json") or name, type_, flags])
        out[f"{package}.{message}"] = rows
    return package, out


def group_name(repo: Repo, directory: str) -> str:
    text = repo.show(f"{directory}/register.go")
    return re.search(r'GroupName\s*=\s*"([^"]*)"', text).group(1)


def go_sources(repo: Repo, directory: str) -> List[str]:
    return [repo.show(f"{directory}/{name}") for name in repo.ls(directory)
            if name.endswith(".go") and not name.endswith("_test.go") and not name.startswith("zz_generated")
            and name != "generated.pb.go"]


def build(api: Repo, machinery: Repo) -> Dict[str, object]:
    messages: Dict[str, object] = {}
    packages: Dict[str, str] = {}
    for directory in MACHINERY_PACKAGES:
        _, schema = package_schema(machinery.show(f"{directory}/generated.proto"), go_sources(machinery, directory))
        messages.update(schema)
    for group_dir in api.ls(""):
        for version in GA_VERSIONS:
            directory = f"{group_dir}/{version}"
            try:
                proto = api.show(f"{directory}/generated.proto")
            except subprocess.CalledProcessError:
                continue
            package, schema = package_schema(proto, go_sources(api, directory))
            messages.update(schema)
            group = group_name(api, directory)
            packages[f"{group}/{version}" if group else version] = package
    return {"source": f"kubernetes/api and kubernetes/apimachinery {api.ref}", "packages": packages,
            "messages": messages}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api", required=True, help="git directory of kubernetes/api")
    parser.add_argument("--apimachinery", required=True, help="git directory of kubernetes/apimachinery")
    parser.add_argument("--ref", default="v0.33.9")
    parser.add_argument("--output", default=OUTPUT)
    args = parser.parse_args()
    schema = build(Repo(args.api, args.ref), Repo(args.apimachinery, args.ref))
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(schema, handle, separators=(",", ":"), sort_keys=True)
        handle.write("\n")
    print(f"wrote {args.output}: {len(schema['messages'])} messages, {len(schema['packages'])} group versions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
