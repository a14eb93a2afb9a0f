"""Operator limits from the environment (``core.env.positive_env``): a positive number of the
asked kind, else the default."""

from __future__ import annotations

import pytest

from posebench.core.env import positive_env


@pytest.mark.parametrize(
    ("raw", "kind", "expected"),
    [
        (None, int, 7),  # unset
        ("3", int, 3),
        ("2.5", float, 2.5),
        ("2.5", int, 7),  # not a whole number
        ("0", int, 7),
        ("-4", float, 7),
        ("lots", float, 7),
        ("", int, 7),
    ],
)
def test_a_positive_number_or_the_default(monkeypatch, raw, kind, expected):
    if raw is None:
        monkeypatch.delenv("POSEBENCH_TEST_LIMIT", raising=False)
    else:
        monkeypatch.setenv("POSEBENCH_TEST_LIMIT", raw)
    value = positive_env("POSEBENCH_TEST_LIMIT", 7, kind)
    assert value == expected and type(value) is type(expected)
