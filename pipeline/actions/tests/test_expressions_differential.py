"""The Python port against GitHub's own evaluator: the same expressions through both, results compared.

One Node process (`pipeline/actions/node/evaluate.mjs`, `@actions/expressions` 0.3.61) evaluates every case;
the port evaluates them here. Values must be identical (kind, NaN, infinities, -0 and key order included),
and errors must carry the same message.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pipeline.actions.expressions import Availability, ExpressionError, Status, evaluate

from .expression_cases import (
    Case,
    availability_cases,
    edge_cases,
    generated_cases,
    hash_cases,
    load_vectors,
    make_workspace,
    number_cases,
    random_contexts,
    standard_contexts,
    status_cases,
)

pytestmark = pytest.mark.tools  # GitHub's evaluator runs in Node

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
GENERATED = 1200
SHOWN = 15


def node_or_skip() -> str:
    """The node executable; skips (fails when CI=true) when Node or the npm packages are missing."""
    node = shutil.which("node")
    reason = ""
    if node is None:
        reason = "node is not installed"
    elif not (NODE_DIR / "node_modules" / "@actions" / "expressions").is_dir():
        reason = f"@actions/expressions is not installed: run `npm ci` in {NODE_DIR}"
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the differential test needs Node: {reason}")
        pytest.skip(reason)
    assert node is not None
    return node


def all_cases(workspace: Path) -> list[Case]:
    defaults = {**random_contexts(random.Random(1)), **standard_contexts()}  # noqa: S311
    cases = (
        load_vectors() + edge_cases() + number_cases() + status_cases() + availability_cases() + hash_cases(workspace)
    )
    cases += generated_cases(20240601, GENERATED)
    return [{**case, "contexts": case.get("contexts", defaults)} for case in cases]


def run_node(node: str, cases: list[Case]) -> list[dict[str, Any]]:
    completed = subprocess.run(
        [node, "evaluate.mjs"],
        cwd=NODE_DIR,
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    results: list[dict[str, Any]] = json.loads(completed.stdout)
    assert len(results) == len(cases)
    return results


def run_python(case: Case) -> dict[str, Any]:
    allowed = case.get("allowed")
    try:
        value = evaluate(
            case["expression"],
            case["contexts"],
            status=Status(**case.get("status", {})),
            workspace=Path(case["workspace"]) if "workspace" in case else None,
            allowed=Availability(frozenset(allowed["contexts"]), frozenset(allowed["functions"])) if allowed else None,
        )
    except ExpressionError as error:
        return {"ok": False, "error": str(error)}
    except Exception as error:  # noqa: BLE001 (a crash of the port is a mismatch to report, not to hide)
        return {"ok": False, "error": f"Python crashed: {type(error).__name__}: {error}"}
    return {"ok": True, "typed": typed(value)}


def _number(value: float) -> str:
    return "NaN" if math.isnan(value) else value.hex()


def typed(value: Any) -> list[Any]:
    """The port's result in evaluate.mjs's typed form, numbers as exact hex."""
    if value is None:
        return ["null"]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, float):
        return ["num", _number(value)]
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, list):
        return ["arr", [typed(item) for item in value]]
    return ["obj", [[key, typed(item)] for key, item in value.items()]]


def normalise(node_typed: list[Any]) -> list[Any]:
    """evaluate.mjs's typed form with its JavaScript number strings as exact hex."""
    tag = node_typed[0]
    if tag == "num":
        return ["num", _number(float(node_typed[1]))]
    if tag == "arr":
        return ["arr", [normalise(item) for item in node_typed[1]]]
    if tag == "obj":
        return ["obj", [[key, normalise(item)] for key, item in node_typed[1]]]
    return node_typed


def same(node: dict[str, Any], python: dict[str, Any]) -> bool:
    if node["ok"] != python["ok"]:
        return False
    if not node["ok"]:
        return bool(node["error"] == python["error"])
    return bool(normalise(node["typed"]) == python["typed"])


def describe(case: Case, node: dict[str, Any], python: dict[str, Any]) -> str:
    contexts = json.dumps(case["contexts"], ensure_ascii=False)
    contexts = contexts if len(contexts) < 400 else contexts[:400] + "..."
    extra = {key: case[key] for key in ("status", "allowed", "workspace") if key in case}
    return (
        f"[{case.get('source')}] {case['expression']!r} {extra or ''}\n    contexts: {contexts}\n"
        f"    GitHub: {json.dumps(node, ensure_ascii=False)[:400]}\n"
        f"    Python: {json.dumps(python, ensure_ascii=False)[:400]}"
    )


def test_port_matches_github_evaluator(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    node = node_or_skip()
    cases = all_cases(make_workspace(tmp_path / "workspace"))
    node_results = run_node(node, cases)
    mismatches = [
        describe(case, node_result, python_result)
        for case, node_result in zip(cases, node_results, strict=True)
        if not same(node_result, python_result := run_python(case))
    ]
    errors = sum(1 for result in node_results if not result["ok"])
    with capsys.disabled():
        print(f"\ncompared {len(cases)} expressions ({errors} of them errors), {len(mismatches)} mismatches")
        for line in mismatches[:SHOWN]:
            print(line)
    assert len(cases) >= 300
    assert not mismatches, f"{len(mismatches)} mismatches; first:\n" + "\n".join(mismatches[:SHOWN])
