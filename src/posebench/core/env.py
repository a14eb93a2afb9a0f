"""Limits and sizes a server's operator sets through environment variables."""

from __future__ import annotations

import os
from typing import TypeVar

Number = TypeVar("Number", bound=float)  # int or float


def positive_env(name: str, default: Number, kind: type[Number], zero_ok: bool = False) -> Number:
    """The positive number in ``$name`` read by ``kind`` (``int`` or ``float``); ``default`` when
    it is unset, not such a number, or 0 or less (less than 0 with ``zero_ok``)."""
    try:
        value = kind(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 or (zero_ok and value == 0) else default
