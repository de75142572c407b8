"""GitHub's matrix expansion: axes, then `exclude`, then `include`.

From GitHub's documentation ("Running variations of jobs in a workflow"):
the combinations are the product of the axes (the first axis varies slowest);
an `exclude` entry removes every combination it matches (a partial match is
enough); then each `include` entry is added to every combination whose
original values it does not overwrite (added values may be overwritten), and
becomes a combination of its own when it fits none.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from pipeline.errors import UserError

Combination = dict[str, Any]
RESERVED = ("include", "exclude")


def _matches(combination: Mapping[str, Any], pattern: Mapping[str, Any]) -> bool:
    return all(key in combination and combination[key] == value for key, value in pattern.items())


def expand(matrix: Mapping[str, Any]) -> list[Combination]:
    """The job instances a `strategy.matrix` (already evaluated) describes."""
    axes = {key: value for key, value in matrix.items() if key not in RESERVED}
    for key, values in axes.items():
        if not isinstance(values, list) or not values:
            raise UserError(
                f"matrix axis {key!r} is not a non-empty list", "give each matrix key a list of values (GitHub's rule)"
            )
    combinations = (
        [dict(zip(axes, values, strict=True)) for values in itertools.product(*axes.values())] if axes else []
    )
    excludes = _entries(matrix.get("exclude"), "exclude")
    combinations = [c for c in combinations if not any(_matches(c, pattern) for pattern in excludes)]
    originals = [dict(combination) for combination in combinations]
    extra: list[Combination] = []
    for entry in _entries(matrix.get("include"), "include"):
        fitted = False
        for original, combination in zip(originals, combinations, strict=True):
            if all(original.get(key, value) == value for key, value in entry.items() if key in original):
                combination.update(entry)
                fitted = True
        if not fitted:
            extra.append(dict(entry))
    return combinations + extra


def _entries(value: Any, name: str) -> Sequence[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(entry, Mapping) for entry in value):
        raise UserError(f"matrix {name} is not a list of mappings", f"write `{name}:` as a list of key: value entries")
    return value
