import io
import json

import pytest

from progress import PREFIX, emit, format_line, parse_line


def test_line_is_prefix_plus_compact_json():
    line = format_line({"event": "step", "step": 3, "loss": 1.5})
    assert line == 'TUNEFORGE {"event":"step","step":3,"loss":1.5}'
    assert "\n" not in line


def test_round_trip_and_non_progress_lines():
    event = {"event": "start", "world_size": 2, "resumed_from": None, "resumed_step": 0}
    assert parse_line(format_line(event)) == event
    assert parse_line("{'loss': 1.0}") is None
    assert parse_line("tuneforge {}") is None


def test_non_finite_numbers_become_null():
    line = format_line({"event": "step", "loss": float("nan"), "learning_rate": float("inf")})
    assert json.loads(line[len(PREFIX):]) == {"event": "step", "loss": None, "learning_rate": None}


def test_event_key_is_required():
    with pytest.raises(ValueError):
        format_line({"step": 1})


def test_emit_writes_one_line():
    stream = io.StringIO()
    emit({"event": "checkpoint", "step": 5, "path": "/x/checkpoint-5"}, stream)
    assert stream.getvalue() == 'TUNEFORGE {"event":"checkpoint","step":5,"path":"/x/checkpoint-5"}\n'
