"""Limits and sizes a server's operator sets through environment variables."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

Number = TypeVar("Number", int, float)


def positive_env(name: str, default: Number, kind: Callable[[str], Number]) -> Number:
    """The positive number in ``$name`` read by ``kind`` (``int`` or ``float``); ``default`` when
    it is unset, not such a number, or 0 or less."""
    try:
        value = kind(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default
