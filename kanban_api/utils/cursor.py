"""Opaque paging cursors: the sort key of the last item a page showed, as URL-safe text."""

import base64
import json
from typing import Any


def encode_cursor(values: list[Any]) -> str:
    text = json.dumps(values, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    """The values `encode_cursor` was given; ValueError for anything it did not make."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(text)
    except ValueError as error:  # bad base64, UTF-8 or JSON alike
        raise ValueError("not a cursor") from error
    if not isinstance(values, list):
        raise ValueError("not a cursor")
    return values
