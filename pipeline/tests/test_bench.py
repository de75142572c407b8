"""`invoke bench`: real figures as ratios to a baseline of the same run, and a clear refusal to time a failure."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from pipeline import bench
from pipeline.conftest import invoke
from pipeline.errors import UserError

pytestmark = pytest.mark.tools


def test_a_command_is_timed(tmp_path: Path) -> None:
    seconds = bench.timed([sys.executable, "-c", "import time; time.sleep(0.3)"], tmp_path)
    assert 0.3 <= seconds < 10


def test_a_failing_command_is_not_a_figure(tmp_path: Path) -> None:
    with pytest.raises(UserError) as raised:
        bench.timed([sys.executable, "-c", "print('the reason'); raise SystemExit(3)"], tmp_path)
    assert "exited 3 while being measured" in raised.value.problem
    assert "the reason" in raised.value.problem


def test_bench_plan_prints_ratios_against_its_baseline() -> None:
    result = invoke("bench", "--only", "plan", timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {
        row["what"]: (float(row["seconds"]), float(row["ratio"]))
        for row in re.finditer(
            r"measure=(?P<what>.+?)  time=(?P<seconds>[\d.]+)s  ratio=(?P<ratio>[\d.]+)x", result.stdout
        )
    }
    baseline, ratio = rows["nox -l --json (what the sessions job runs)"]
    assert ratio == 1.0
    plan_seconds, plan_ratio = rows["invoke ci --dry-run (whole process)"]
    rounding = 0.005 / baseline + 0.005 / plan_seconds + 0.005 / plan_ratio  # times and ratio print rounded
    assert plan_ratio == pytest.approx(plan_seconds / baseline, rel=rounding)


def test_an_unknown_section_is_one_paragraph() -> None:
    result = invoke("bench", "--only", "nonsense")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "Unknown bench section(s): nonsense" in result.stdout + result.stderr
