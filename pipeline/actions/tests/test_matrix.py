"""GitHub's matrix expansion, on the examples of GitHub's own documentation."""

from __future__ import annotations

import pytest

from pipeline.actions import matrix
from pipeline.errors import UserError


def test_include_extends_combinations_and_adds_new_ones() -> None:
    """docs.github.com: "Example: Expanding configurations"."""
    expanded = matrix.expand(
        {
            "fruit": ["apple", "pear"],
            "animal": ["cat", "dog"],
            "include": [
                {"color": "green"},
                {"color": "pink", "animal": "cat"},
                {"fruit": "apple", "shape": "circle"},
                {"fruit": "banana"},
                {"fruit": "banana", "animal": "cat"},
            ],
        }
    )
    assert expanded == [
        {"fruit": "apple", "animal": "cat", "color": "pink", "shape": "circle"},
        {"fruit": "apple", "animal": "dog", "color": "green", "shape": "circle"},
        {"fruit": "pear", "animal": "cat", "color": "pink"},
        {"fruit": "pear", "animal": "dog", "color": "green"},
        {"fruit": "banana"},
        {"fruit": "banana", "animal": "cat"},
    ]


def test_exclude_removes_full_and_partial_matches() -> None:
    """docs.github.com: "Excluding matrix configurations": 12 combinations, 3 excluded."""
    expanded = matrix.expand(
        {
            "os": ["macos-latest", "windows-latest"],
            "version": [12, 14, 16],
            "environment": ["staging", "production"],
            "exclude": [
                {"os": "macos-latest", "version": 12, "environment": "production"},
                {"os": "windows-latest", "version": 16},
            ],
        }
    )
    assert len(expanded) == 9
    assert {"os": "macos-latest", "version": 12, "environment": "production"} not in expanded
    assert not [c for c in expanded if c["os"] == "windows-latest" and c["version"] == 16]


def test_first_axis_varies_slowest() -> None:
    assert matrix.expand({"a": [1, 2], "b": ["x", "y"]}) == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
    ]


def test_include_only_matrix_is_its_entries() -> None:
    entries = [{"session": "tests-3.12", "python": "3.12"}, {"session": "tests-3.13", "python": "3.13"}]
    assert matrix.expand({"include": entries}) == entries


def test_include_may_not_overwrite_original_values() -> None:
    assert matrix.expand({"os": ["linux"], "include": [{"os": "mac", "extra": 1}]}) == [
        {"os": "linux"},
        {"os": "mac", "extra": 1},
    ]


@pytest.mark.parametrize("bad", [{"os": "linux"}, {"os": []}, {"os": ["a"], "exclude": "x"}])
def test_malformed_matrices_are_user_errors(bad: dict[str, object]) -> None:
    with pytest.raises(UserError):
        matrix.expand(bad)
