"""The small part of JSON Schema that progress-schema.json uses, checked without a dependency.

Mirrors src/recipes/schema-check.ts: type, const, enum, minimum, properties, required,
additionalProperties (false) and oneOf; any other keyword is refused, never ignored.
"""

import json
import math
import os

from progress import PREFIX

SCHEMA_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "common",
                           "progress-schema.json")
GOLDEN_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "progress-lines.jsonl")
ANNOTATIONS = {"$schema", "$id", "title", "description"}
KEYWORDS = {"type", "const", "enum", "minimum", "properties", "required", "additionalProperties", "oneOf"}


def load_schema(path=SCHEMA_PATH):
    with open(path, encoding="utf-8") as handle:
        schema = json.load(handle)
    assert_supported(schema)
    return schema


def golden_lines(path=GOLDEN_PATH):
    with open(path, encoding="utf-8") as handle:
        return [line.rstrip("\n") for line in handle if line.strip()]


def golden_events():
    return [json.loads(line[len(PREFIX):]) for line in golden_lines()]


def assert_supported(schema, at="#"):
    for key, value in schema.items():
        if key in ANNOTATIONS:
            continue
        if key not in KEYWORDS:
            raise ValueError(f"{at}: schema keyword {key} is not supported by this checker")
        if key == "additionalProperties" and value is not False:
            raise ValueError(f"{at}: only additionalProperties: false is supported")
        if key == "properties":
            for name, sub in value.items():
                assert_supported(sub, f"{at}/properties/{name}")
        if key == "oneOf":
            for i, sub in enumerate(value):
                assert_supported(sub, f"{at}/oneOf/{i}")


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


TYPES = {
    "null": lambda v: v is None,
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "number": _is_number,
    "integer": lambda v: _is_number(v) and float(v).is_integer(),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def problems(schema, value, path="$"):
    """What is wrong with value, as "path: problem" strings; empty when it conforms."""
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(TYPES[t](value) for t in types):
            return [f"{path}: expected {' or '.join(types)}, got {type(value).__name__}"]
    found = []
    if "const" in schema and value != schema["const"]:
        found.append(f"{path}: expected {json.dumps(schema['const'])}")
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: expected one of {schema['enum']}")
    if "minimum" in schema and _is_number(value) and value < schema["minimum"]:
        found.append(f"{path}: below the minimum {schema['minimum']}")
    if isinstance(value, dict):
        found += [f"{path}.{name}: missing" for name in schema.get("required", []) if name not in value]
        for name, field in value.items():
            if name in schema.get("properties", {}):
                found += problems(schema["properties"][name], field, f"{path}.{name}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{path}.{name}: not allowed")
    if "oneOf" in schema:
        results = [problems(branch, value, path) for branch in schema["oneOf"]]
        matching = sum(1 for r in results if not r)
        if matching > 1:
            found.append(f"{path}: matches {matching} alternatives, expected exactly one")
        elif matching == 0:
            found += min(results, key=len)
    return found


def assert_conforms(event, schema=None):
    """A real progress event conforms to the schema and has the fields of a golden line of its kind."""
    schema = schema or load_schema()
    assert problems(schema, event) == [], event
    shapes = {frozenset(golden) for golden in golden_events() if golden["event"] == event["event"]}
    assert frozenset(event) in shapes, f"{event} has fields no golden {event['event']} line has: {shapes}"
