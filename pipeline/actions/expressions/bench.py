"""A benchmark for `invoke bench`: the time of 1,000 representative expressions, parsing included."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .api import condition, evaluate, interpolate

# What workflows write: conditions, filters, string building, JSON round trips. Only GitHub's context
# names, so any contexts (even empty ones) evaluate without errors.
REPRESENTATIVE = (
    "github.event_name == 'push' && github.ref == 'refs/heads/main'",
    "contains(github.event.pull_request.labels.*.name, 'safe to test')",
    "startsWith(github.ref, 'refs/tags/v') || endsWith(github.head_ref, '-hotfix')",
    "format('{0}-{1}-{2}', runner.os, matrix.python, hashFiles('**/uv.lock', 'nothing.never'))",
    "fromJSON(needs.build.outputs.matrix || '{}')",
    "toJSON(matrix)",
    "join(github.event.commits.*.message, '\\n')",
    "steps.build.outputs.changed == 'true' || inputs.debug",
    "case(github.event_name == 'schedule', 'nightly', github.ref == 'refs/heads/main', 'main', 'branch')",
    "github.event.pull_request.head.repo.fork != true && !cancelled()",
    "matrix.experimental || strategy.job-index > 0",
    "vars.DEPLOY == 'yes' && (success() || failure())",
)
_TEMPLATE = "python-${{ matrix.python }}-${{ runner.os }}-${{ github.sha }}"


def time_thousand(contexts: Mapping[str, Any]) -> float:
    """Seconds to evaluate 1,000 expressions (each parsed afresh) over `contexts`; hashFiles hashes a small tree."""
    with tempfile.TemporaryDirectory() as folder:
        workspace = Path(folder)
        (workspace / "uv.lock").write_text("version = 1\n", encoding="utf-8")
        (workspace / "src").mkdir()
        (workspace / "src" / "uv.lock").write_text("version = 2\n", encoding="utf-8")
        start = time.perf_counter()
        for number in range(1000):
            kind = number % 14
            if kind == 12:
                interpolate(_TEMPLATE, contexts)
            elif kind == 13:
                condition("github.event_name != 'pull_request'", contexts)
            else:
                evaluate(REPRESENTATIVE[kind], contexts, workspace=workspace)
        return time.perf_counter() - start
