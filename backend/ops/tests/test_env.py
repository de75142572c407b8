"""The typed readers of environment variables the settings modules share."""

from __future__ import annotations

import pytest

from ops import env


@pytest.mark.parametrize(("raw", "expected"), [("", False), ("yes", True), ("0", False), ("ON", True)])
def test_get_bool(raw: str, expected: bool) -> None:
    assert env.get_bool("FLAG", environ={"FLAG": raw}) is expected


def test_get_bool_rejects_other_words() -> None:
    with pytest.raises(env.EnvError, match="FLAG must be one of"):
        env.get_bool("FLAG", environ={"FLAG": "maybe"})


def test_get_int_and_list() -> None:
    assert env.get_int("N", 7, environ={}) == 7
    assert env.get_int("N", 7, environ={"N": " 12 "}) == 12
    assert env.get_list("L", environ={"L": "a, b,,c "}) == ["a", "b", "c"]
