"""Machine-readable progress lines: `TUNEFORGE {json}` on stdout, one per line."""

import json
import math
import sys

PREFIX = "TUNEFORGE "


def _finite_or_none(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def format_line(event: dict) -> str:
    """One progress line (no newline). NaN/inf become null so the line stays valid JSON."""
    if "event" not in event:
        raise ValueError("progress event needs an 'event' key")
    clean = {key: _finite_or_none(value) for key, value in event.items()}
    return PREFIX + json.dumps(clean, separators=(",", ":"), allow_nan=False)


def parse_line(line: str) -> dict | None:
    """Inverse of format_line; None for lines that are not progress lines."""
    if not line.startswith(PREFIX):
        return None
    return json.loads(line[len(PREFIX):])


def emit(event: dict, stream=None) -> None:
    stream = stream or sys.stdout
    stream.write(format_line(event) + "\n")
    stream.flush()
