"""The typed readers of environment variables the settings modules share."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from ops import env


@pytest.mark.parametrize(("raw", "expected"), [("", False), ("yes", True), ("0", False), ("ON", True)])
def test_get_bool(raw: str, expected: bool) -> None:
    assert env.get_bool("FLAG", environ={"FLAG": raw}) is expected


def test_get_bool_rejects_other_words() -> None:
    with pytest.raises(env.EnvError, match="FLAG='maybe' cannot be used: it needs one of"):
        env.get_bool("FLAG", environ={"FLAG": "maybe"})


def test_get_int_and_list() -> None:
    assert env.get_int("N", 7, environ={}) == 7
    assert env.get_int("N", 7, environ={"N": " 12 "}) == 12
    assert env.get_list("L", environ={"L": "a, b,,c "}) == ["a", "b", "c"]


def test_a_reader_collects_every_problem_and_goes_on_with_defaults() -> None:
    reader = env.Reader(
        {"N": "many", "FLAG": "perhaps", "DATABASE_URL": "postgres://u:secret@h:x/n", "REDIS_URL": "memcached://m"}
    )
    assert reader.integer("N", 3) == 3
    assert reader.boolean("FLAG", True) is True
    assert reader.database("DATABASE_URL", "sqlite://:memory:", 0)["ENGINE"] == "django.db.backends.sqlite3"
    assert reader.cache("REDIS_URL") == ""
    assert reader.required("MISSING", "a value") == ""
    assert [problem.variable for problem in reader.problems] == ["N", "FLAG", "DATABASE_URL", "REDIS_URL", "MISSING"]
    assert all("secret" not in str(problem) for problem in reader.problems)
    assert str(reader.problems[-1]) == "MISSING is missing: set it to a value."


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgres://app:p%40ss@db:5432/app", "postgres://app:***@db:5432/app"),
        ("postgres://app:pw@db:port/app", "postgres://app:***@db:port/app"),
        ("redis://:pw@cache:6379/0", "redis://:***@cache:6379/0"),
        ("sqlite:///tmp/db.sqlite3", "sqlite:///tmp/db.sqlite3"),
    ],
)
def test_a_password_is_never_shown(url: str, shown: str) -> None:
    assert env.hide_password(url) == shown


def test_development_and_testing_refuse_to_start_with_a_problem() -> None:
    reader = env.Reader({"DATABASE_CONN_MAX_AGE": "-5"})
    reader.integer("DATABASE_CONN_MAX_AGE", 60)
    with pytest.raises(ImproperlyConfigured, match="1 environment variable"):
        env.fail_on_problems(reader, "these settings")
