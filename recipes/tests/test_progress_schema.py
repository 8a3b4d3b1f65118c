"""The progress line contract: progress-schema.json, the golden lines, and the Python emitter agree.

node:test (test/progress-schema.test.ts) reads the same schema and golden file for the TypeScript parser.
"""

import copy
import json

import pytest

from progress import PREFIX, format_line, parse_line
from schema_check import golden_events, golden_lines, load_schema, problems

SCHEMA = load_schema()
KINDS = SCHEMA["properties"]["event"]["enum"]


def test_golden_lines_cover_every_event_kind_and_conform():
    events = golden_events()
    assert sorted({event["event"] for event in events}) == sorted(KINDS)
    for event in events:
        assert problems(SCHEMA, event) == [], event


def test_the_emitter_writes_the_golden_lines_byte_for_byte():
    for line in golden_lines():
        assert format_line(parse_line(line)) == line


def test_non_finite_numbers_still_conform_once_written():
    event = parse_line(format_line({"event": "step", "step": 1, "max_steps": 2, "loss": float("nan"),
                                    "epoch": 0.5, "learning_rate": float("inf")}))
    assert problems(SCHEMA, event) == []


def mutations():
    """(name, event) pairs the schema must refuse, derived from every golden line."""
    for event in golden_events():
        kind = event["event"]
        for key in event:
            if key == "event":
                continue
            wrong = copy.deepcopy(event)
            wrong[key] = [event[key]]  # no field of a progress line is an array
            yield f"{kind}.{key} of the wrong type", wrong
        required = [branch for branch in SCHEMA["oneOf"] if branch["properties"]["event"]["const"] == kind][0]["required"]
        for key in required:
            if key != "event":
                yield f"{kind} without {key}", {k: v for k, v in event.items() if k != key}
        yield f"{kind} with an unknown field", {**event, "surprise": 1}
        yield f"{kind} renamed to an unknown event", {**event, "event": kind + "ed"}


@pytest.mark.parametrize("name,event", list(mutations()), ids=lambda v: v if isinstance(v, str) else "")
def test_mutated_lines_are_refused(name, event):
    assert problems(SCHEMA, event) != [], name


def test_a_fractional_step_is_not_an_integer():
    event = golden_events()[1]
    assert event["event"] == "step"
    assert problems(SCHEMA, {**event, "step": 1.5}) == ["$.step: expected integer, got float"]


def test_the_golden_file_is_prefixed_compact_json():
    for line in golden_lines():
        assert line.startswith(PREFIX)
        body = line[len(PREFIX):]
        assert json.dumps(json.loads(body), separators=(",", ":")) == body
