"""The one JSON text form punctual sizes, stores and publishes: compact, non-ASCII kept as UTF-8.

The size a caller is held to must be the size SNS sees: ``\\uXXXX`` escapes would make a non-ASCII message up
to six times larger on the wire than when it was checked.
"""

from __future__ import annotations

import json
from typing import Any


def compact_json(value: Any) -> str:
    """Raises TypeError/ValueError (not JSON, NaN), RecursionError (nested too deep)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def utf8_size(value: Any) -> int:
    """Bytes of ``compact_json(value)`` as UTF-8; UnicodeEncodeError for a lone surrogate, which cannot travel."""
    return len(compact_json(value).encode("utf-8"))
