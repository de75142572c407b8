"""The fuzzing run's decisions (pure): the seed, the command, reading the report."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline import fuzzing


def test_the_seed_is_fixed_on_ci_fresh_elsewhere_and_replayable() -> None:
    assert fuzzing.seed({"CI": "true"}) == fuzzing.CI_SEED
    assert fuzzing.seed({"CI": "true", "SCHEMATHESIS_SEED": "42"}) == 42
    assert fuzzing.seed({"SCHEMATHESIS_SEED": "7"}) == 7
    assert len({fuzzing.seed({}) for _ in range(5)}) > 1


def test_the_command_sends_the_proxy_headers_and_the_token_only_when_given(tmp_path: Path) -> None:
    proxy = {"X-Forwarded-Proto": "https"}
    with_token = fuzzing.command("http://127.0.0.1:8000", 5, tmp_path / "r.json", "abc", proxy)
    without = fuzzing.command("http://127.0.0.1:8000", 5, tmp_path / "r.json", None, proxy)
    assert "http://127.0.0.1:8000/api/openapi.json" in with_token
    assert "Authorization: Bearer abc" in with_token
    assert not any("Authorization" in part for part in without)
    assert "X-Forwarded-Proto: https" in without
    assert without[without.index("--seed") + 1] == "5"


def test_the_report_gives_the_generated_cases_and_nothing_when_unreadable(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"test_cases": {"generated": 677, "with_failures": 0}}))
    assert fuzzing.cases_in(report) == 677
    report.write_text("{broken")
    assert fuzzing.cases_in(report) == 0
    assert fuzzing.cases_in(tmp_path / "missing.json") == 0
