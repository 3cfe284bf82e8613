"""Structural-schema validation and defaulting of custom resources (pure; no server)."""
from clustersim import crd, crvalidation
from clustersim.errors import invalid
from clustersim.kinds import default_registry

VM_SCHEMA = default_registry().get("kubevirt.io/virtualmachines").schema


def messages(obj, schema=VM_SCHEMA):
    return [(c.field, c.message, c.reason) for c in crvalidation.validate(obj, schema)]


def test_wrong_type_is_type_invalid_with_the_detected_type():
    found = messages({"spec": {"runStrategy": 5, "template": {"spec": {"domain": {"devices": {}}}}}})
    assert found == [("spec.runStrategy", 'Invalid value: "integer": spec.runStrategy in body must be of type string: '
                                          '"integer"', "FieldValueTypeInvalid")]


def test_the_422_message_is_the_apiservers():
    causes = crvalidation.validate({"spec": {"runStrategy": 5, "template": {"spec": {"domain": {"devices": {}}}}}},
                                   VM_SCHEMA)
    error = invalid("VirtualMachine", "x", causes, "kubevirt.io")
    assert error.code == 422 and error.message == (
        'VirtualMachine.kubevirt.io "x" is invalid: spec.runStrategy: Invalid value: "integer": '
        'spec.runStrategy in body must be of type string: "integer"')
    assert error.to_status()["details"]["causes"][0]["reason"] == "FieldValueTypeInvalid"


def test_missing_required_property():
    assert messages({"spec": {"runStrategy": "Always"}}) == [("spec.template", "Required value", "FieldValueRequired")]


SCHEMA = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
    "mode": {"type": "string", "enum": ["A", "B"]},
    "count": {"type": "integer", "minimum": 1, "maximum": 3},
    "ratio": {"type": "number"},
    "when": {"type": "string", "format": "date-time"},
    "name": {"type": "string", "maxLength": 3, "pattern": "^[a-z]+$"},
    "tags": {"type": "array", "maxItems": 1, "items": {"type": "string"}},
    "size": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
    "any": {"x-kubernetes-preserve-unknown-fields": True},
    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
    "fill": {"type": "string", "default": "zero"},
    "nested": {"type": "object", "default": {}, "properties": {"inner": {"type": "integer", "default": 7}}},
}}}}


def test_enum_bounds_format_length_pattern_items():
    found = messages({"spec": {"mode": "C", "count": 4, "when": "yesterday", "name": "ABCD", "tags": ["a", "b"]}},
                     SCHEMA)
    assert sorted(found) == [
        ("spec.count", "Invalid value: 4: spec.count in body should be less than or equal to 3", "FieldValueInvalid"),
        ("spec.mode", 'Unsupported value: "C": supported values: "A", "B"', "FieldValueNotSupported"),
        ("spec.name", 'Invalid value: "ABCD": spec.name in body should match \'^[a-z]+$\'', "FieldValueInvalid"),
        ("spec.name", 'Too long: may not be more than 3 bytes', "FieldValueTooLong"),
        ("spec.tags", "Too many: 2: must have at most 1 items", "FieldValueTooMany"),
        ("spec.when", 'Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"',
         "FieldValueTypeInvalid"),
    ]


def test_valid_values_pass():
    assert messages({"spec": {"mode": "A", "count": 2, "ratio": 1, "when": "2025-01-02T03:04:05Z", "name": "ab",
                              "size": "10Gi", "any": {"x": [1]}, "labels": {"a": "b"}, "unknown": 5}}, SCHEMA) == []
    assert messages({"spec": {"size": 3, "count": 2.0}}, SCHEMA) == []
    assert [f for f, _, _ in messages({"spec": {"size": {"a": 1}, "ratio": "x"}}, SCHEMA)] == ["spec.size", "spec.ratio"]


def test_map_values_and_array_items_are_validated_with_their_paths():
    found = messages({"spec": {"labels": {"a": 1}, "tags": [True]}}, SCHEMA)
    assert [f for f, _, _ in found] == ["spec.labels.a", "spec.tags[0]"]
    assert found[1][1] == 'Invalid value: "boolean": spec.tags[0] in body must be of type string: "boolean"'


def test_defaults_fill_absent_fields_recursively():
    obj = {"metadata": {"name": "x"}, "spec": {}}
    crvalidation.default_object(obj, SCHEMA)
    assert obj["spec"] == {"fill": "zero", "nested": {"inner": 7}}
    kept = {"spec": {"fill": "one", "nested": {"inner": 1}}}
    crvalidation.default_object(kept, SCHEMA)
    assert kept["spec"] == {"fill": "one", "nested": {"inner": 1}}


def test_ratcheting_keeps_unchanged_invalid_values():
    old = {"spec": {"mode": "C", "count": 2}}
    new = {"spec": {"mode": "C", "count": 9}}
    assert [c.field for c in crvalidation.validate(new, SCHEMA, old)] == ["spec.count"]
    assert [c.field for c in crvalidation.validate(new, SCHEMA)] == ["spec.mode", "spec.count"]


def test_ratcheting_of_required_properties():
    schema = {"type": "object", "properties": {"spec": {"type": "object", "required": ["a"]}}}
    assert crvalidation.validate({"spec": {"b": 1}}, schema, {"spec": {}}) == []
    assert [c.field for c in crvalidation.validate({"spec": {"b": 1}}, schema, {"spec": {"a": 1}})] == ["spec.a"]
    assert [c.field for c in crvalidation.validate({"spec": {"b": 1}}, schema)] == ["spec.a"]


def test_every_seed_crd_round_trips_to_its_kind():
    registry = default_registry()
    for kind in registry.all():
        if kind.builtin or kind.group in ("route.openshift.io", "template.openshift.io"):
            continue
        definition = crd.crd_from_kind(kind, "2025-01-01T00:00:00Z")
        assert crd.validate_crd(definition) == [], kind.key
        served = crd.kind_from_crd(definition)
        assert (served.key, served.version, served.namespaced, served.short_names) == \
            (kind.key, kind.version, kind.namespaced, kind.short_names)
        assert served.printer_columns == kind.printer_columns and served.schema == kind.schema


def test_crd_validation_messages():
    bad = {"metadata": {"name": "things.example.com"},
           "spec": {"group": "example", "scope": "Global", "names": {"plural": "Things", "kind": ""},
                    "versions": [{"name": "v1", "served": True, "storage": False}]}}
    fields = [c.field for c in crd.validate_crd(bad)]
    assert fields == ["metadata.name", "spec.group", "spec.scope", "spec.names.kind", "spec.names.plural",
                      "spec.versions", "spec.versions[0].schema.openAPIV3Schema"]
