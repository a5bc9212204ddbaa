"""JSON text for stored columns and HTTP answers: orjson, or the standard library for what orjson refuses."""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> str:
    """Compact JSON text of `value`; integers beyond 64 bits and non-string keys go through `json` instead."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError: e.g. a 10**30 a listening tool put in `raw`
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
