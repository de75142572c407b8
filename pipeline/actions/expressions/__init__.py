"""GitHub Actions expressions: a port of GitHub's evaluator `@actions/expressions` 0.3.61.

`evaluate` an expression, `interpolate` or `evaluate_template` a string with `${{ }}` parts, decide an
`if:` with `condition`. Contexts and results are plain Python data (as `json.loads` gives and takes).
`tests/test_expressions_differential.py` runs the same expressions through the JavaScript original.
"""

from .api import (
    GITHUB_CONTEXTS,
    calls_status_function_in,
    condition,
    evaluate,
    evaluate_template,
    interpolate,
    read_paths,
    to_string,
    truthy,
)
from .availability import AVAILABILITY, Availability
from .errors import ExpressionError
from .special import Status

__all__ = [
    "AVAILABILITY",
    "GITHUB_CONTEXTS",
    "Availability",
    "ExpressionError",
    "Status",
    "calls_status_function_in",
    "condition",
    "evaluate",
    "evaluate_template",
    "interpolate",
    "read_paths",
    "to_string",
    "truthy",
]
