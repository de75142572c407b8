"""Unit tests of the expression engine (the differential test compares it with GitHub's evaluator at scale)."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import pytest

from pipeline.actions.expressions import (
    AVAILABILITY,
    ExpressionError,
    Status,
    condition,
    evaluate,
    evaluate_template,
    interpolate,
    to_string,
    truthy,
)
from pipeline.actions.expressions.bench import time_thousand
from pipeline.actions.expressions.numbers import js_string, number_string, parse_number

from .expression_cases import load_vectors, standard_contexts

CONTEXTS: dict[str, Any] = {
    "github": {
        "ref": "refs/heads/main",
        "event": {"issue": {"labels": [{"name": "bug"}, {"name": "Help Wanted"}]}},
    },
    "matrix": {"os": "ubuntu-latest", "n": 3, "flag": False},
    "fruits": [{"name": "apple", "quantity": 1}, {"name": "orange", "quantity": 2}, {"name": "pear"}],
    "obj": {"Key": 1, "key": 2, "b": 1, "2": "two", "1": "one"},
}


def ev(expression: str, **kwargs: Any) -> Any:
    return evaluate(expression, CONTEXTS, **kwargs)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("!true == false", True),  # ! binds tighter than ==
        ("true || false && false", True),  # && binds tighter than ||
        ("(true || false) && false", False),
        ("1 < 2 == true", True),  # comparison before equality
        ("!1 < 2", True),
        ("null || 0 || '' || 'last'", "last"),  # || returns the first truthy operand
        ("1 && 'x' && null && 2", None),  # && returns the first falsy operand
        ("false || null", None),
        ("matrix.n > 2 && 'big' || 'small'", "big"),
    ],
)
def test_precedence_and_short_circuit(expression: str, expected: Any) -> None:
    assert ev(expression) == expected


def test_short_circuit_skips_errors() -> None:
    assert ev("true || fromJSON('')") is True
    with pytest.raises(ExpressionError, match="empty input"):
        ev("false || fromJSON('')")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("null == 0", True),
        ("'' == 0", True),
        ("'' == null", True),
        ("true == 1", True),
        ("' 0x10 ' == 16", True),
        ("'1e3' == 1000", True),
        ("'abc' == 'ABC'", True),
        ("'abc' == true", False),
        ("fromJSON('[]') == 0", False),
        ("fromJSON('[]') == fromJSON('[]')", False),  # arrays and objects: equal only to themselves
        ("github.event == github.event", True),
        ("NaN == NaN", False),
        ("NaN != NaN", True),
        ("1 < NaN", False),
        ("NaN >= NaN", False),
        ("null >= null", True),
        ("true > false", True),
        ("'a' < 'B'", True),  # case-insensitive ordering
        ("'\u0131' == 'I'", False),  # the dotless i keeps its case
        ("'ß' == 'SS'", True),
        ("'\uffff' > '💥'", True),  # UTF-16 code unit order, as JavaScript compares
    ],
)
def test_coercion_and_comparison(expression: str, expected: bool) -> None:
    assert ev(expression) is expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("711", 711.0),
        ("-9.2", -9.2),
        ("0xff", 255.0),
        ("-2.99e-2", -0.0299),
        ("0o17", 15.0),
        ("0b101", 5.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("Infinity", math.inf),
        ("-Infinity", -math.inf),
    ],
)
def test_number_literals(expression: str, expected: float) -> None:
    assert ev(expression) == expected


def test_number_printing() -> None:
    assert ev("format('{0}', 0.1)") == "0.1"
    assert [number_string(value) for value in (0.1 + 0.2, 1e21, 1e-7, 1e-16, -0.0, 123456789.123456789)] == [
        "0.3",
        "1e+21",
        "1e-7",
        "0",
        "0",
        "123456789.12345679",
    ]
    assert [js_string(value) for value in (0.1 + 0.2, 1e21, 1e20, 1e-7, 1e-6, 2.0**53)] == [
        "0.30000000000000004",
        "1e+21",
        "100000000000000000000",
        "1e-7",
        "0.000001",
        "9007199254740992",
    ]
    assert math.isnan(parse_number("1_000"))
    assert math.isnan(parse_number("-0x1"))
    assert parse_number("\u00a0 12 \ufeff") == 12.0
    assert ev("-0") == 0.0
    assert math.copysign(1, ev("-0")) == -1.0


def test_strings_and_escapes() -> None:
    assert ev("'It''s open source!'") == "It's open source!"
    # GitHub's lexer (String.replace with a string pattern) un-doubles only the first '' of a literal.
    assert ev("'a''b''c'") == "a'b''c"


def test_property_and_index_access() -> None:
    assert ev("github.event.issue.labels.*.name") == ["bug", "Help Wanted"]
    assert ev("fruits.*.name") == ["apple", "orange", "pear"]
    assert ev("fruits.*.quantity") == [1.0, 2.0]  # missing members are dropped, not null
    assert ev("fruits[1].name") == "orange"
    assert ev("fruits[1.9].name") == "orange"  # floor of the index
    assert ev("fruits['1'].name") == "orange"
    assert ev("fruits[true].name") == "orange"
    assert ev("fruits[null].name") == "apple"  # null is 0
    assert ev("fruits[-1]") is None
    assert ev("fruits[7]") is None
    assert ev("MATRIX.OS") == "ubuntu-latest"  # contexts and keys ignore case
    assert ev("obj.key") == 1.0  # of keys differing only in case, the first wins
    assert ev("obj[2]") == "two"
    assert ev("matrix.missing.deeper") is None
    assert ev("matrix.os.*") == []
    assert ev("fruits.*[0]") == []  # indexing a filter indexes each item


def test_object_filter_on_dictionary() -> None:
    contexts = {"vegetables": {"scallions": {"edible": ["roots"]}, "beets": {"edible": ["stems"]}}}
    assert evaluate("vegetables.*.edible", contexts) == [["roots"], ["stems"]]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("contains('Hello world', 'LLO')", True),
        ("contains(github.event.issue.labels.*.name, 'BUG')", True),
        ("contains(fromJSON('[\"push\", \"pull_request\"]'), 'push')", True),
        ("contains(fromJSON('[1, 2]'), '2')", True),
        ("contains(matrix, 'os')", False),
        ("startsWith('Hello world', 'he')", True),
        ("endsWith('Hello world', 'LD')", True),
        ("startsWith(fromJSON('[]'), '')", False),
        ("format('Hello {0} {1} {2}', 'Mona', 'the', 'Octocat')", "Hello Mona the Octocat"),
        ("format('{{Hello {0} {1} {2}!}}', 'Mona', 'the', 'Octocat')", "{Hello Mona the Octocat!}"),
        ("format('{0}-{0}', null, 1)", "-"),
        ("format('{0:x}', 5)", "5"),  # anything after the index is ignored
        ("format('{0}', matrix)", "Object"),
        ("join(github.event.issue.labels.*.name, ', ')", "bug, Help Wanted"),
        ("join(fromJSON('[1, true, null, [2]]'))", "1,true,,Array"),
        ("join('abc', '-')", "abc"),
        ("join(matrix)", ""),
        ('toJSON(fromJSON(\'{"b": 1, "2": [], "1": {}}\'))', '{\n  "1": {},\n  "2": [],\n  "b": 1\n}'),
        ("toJSON(fromJSON('[0.1, 1e21, -0]'))", "[\n  0.1,\n  1e+21,\n  0\n]"),
        ("toJSON(NaN)", "null"),
        ("toJSON('a\"\\\n')", '"a\\"\\\\\\n"'),
        ("fromJSON(' 12 ')", 12.0),
        ('fromJSON(\'{"a": {"A": 1, "a": 2}}\').a.a', 1.0),
        ("case(matrix.n == 3, 'three', matrix.n == 4, 'four', 'other')", "three"),
        ("case(false, 1, 'default')", "default"),
    ],
)
def test_functions(expression: str, expected: Any) -> None:
    assert ev(expression) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("format('{1}', 0)", "The following format string references more arguments than were supplied: {1}"),
        ("format('{a}', 0)", "The following format string is invalid: {a}"),
        ("format('}', 0)", "The following format string is invalid: }"),
        ("fromJSON(' ')", "empty input"),
        ("fromJSON('NaN')", "Error parsing JSON when evaluating fromJson"),
        ("fromJSON('[1,]')", "Error parsing JSON when evaluating fromJson"),
        ("case(1, 2, 3)", "case predicate must evaluate to a boolean value"),
        ("matrix[fromJSON('')]", "could not evaluate index for index access: empty input"),
        ("1 <", "Unexpected end of expression: '<'"),
        ("1 < )", "Unexpected symbol: ')'"),
        ("contains(1", "Unexpected symbol: 'EOF'"),
        ("foo.bar", "Unrecognized named-value: 'foo'"),
        ("nothing(1)", "Unrecognized function: 'nothing'"),
        ("contains(1)", "Too few parameters supplied: 'contains'"),
        ("toJSON(1, 2)", "Too many parameters supplied: 'toJSON'"),
        ("case(true, 1, false, 2)", "Even number of parameters supplied, requires an odd number of parameters: 'case'"),
        ("1 = 1", "Unexpected symbol: '='. Located at position 3 within expression: 1 = 1"),
        ("'💥' + x", "Unexpected symbol: '+'. Located at position 6 within expression: '💥' + x"),
        ("'open", "Unexpected symbol: ''open'. Located at position 1 within expression: 'open"),
        ("1.2.3", "Unexpected symbol: '1.2.3'. Located at position 1 within expression: 1.2.3"),
        ("(" * 50 + "1" + ")" * 50, "Exceeded max expression depth 50: '1'"),
        ("'" + "a" * 21000 + "'", "ErrorExceededMaxLength"),
    ],
)
def test_errors(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        ev(expression)
    assert str(raised.value) == message


def test_empty_expression_is_null() -> None:
    assert ev("  ") is None


def test_status_functions() -> None:
    assert ev("success()") is True
    assert ev("failure()", status=Status(failed=True)) is True
    assert ev("success()", status=Status(failed=True)) is False
    assert ev("cancelled()", status=Status(cancelled=True)) is True
    assert ev("failure()", status=Status(failed=True, cancelled=True)) is False  # cancellation overrides
    assert ev("always()", status=Status(cancelled=True)) is True


def test_condition_implies_success() -> None:
    assert condition("matrix.n == 3", CONTEXTS) is True
    assert condition("matrix.n == 3", CONTEXTS, status=Status(failed=True)) is False
    assert condition("${{ matrix.n == 3 }}", CONTEXTS, status=Status(failed=True)) is False
    assert condition("${{ failure() && matrix.n == 3 }}", CONTEXTS, status=Status(failed=True)) is True
    assert condition("always()", CONTEXTS, status=Status(cancelled=True)) is True
    assert condition("!cancelled()", CONTEXTS, status=Status(failed=True)) is True
    assert condition("format('{0}', failure())", CONTEXTS, status=Status(failed=True)) is True
    assert condition("'failure()'", CONTEXTS, status=Status(failed=True)) is False  # a string, not a call
    assert condition("", CONTEXTS) is True
    assert condition("   ", CONTEXTS, status=Status(cancelled=True)) is False
    assert condition("matrix.flag", CONTEXTS) is False
    assert condition("${{ matrix.flag }} ", CONTEXTS) is True  # text around ${{ }} makes it a string
    with pytest.raises(ExpressionError, match="Unexpected end of expression: '=='"):
        condition("matrix.n ==", CONTEXTS)


def test_availability_rejects_contexts_and_functions() -> None:
    job_if = AVAILABILITY["jobs.<job_id>.if"]
    with pytest.raises(ExpressionError) as raised:
        evaluate("job.status == 'success'", {"job": {"status": "success"}}, allowed=job_if)
    assert str(raised.value) == "Unrecognized named-value: 'job'"
    with pytest.raises(ExpressionError) as raised:
        evaluate("hashFiles('x')", {}, allowed=job_if)
    assert str(raised.value) == "Unrecognized function: 'hashFiles'"
    with pytest.raises(ExpressionError) as raised:
        evaluate("always()", {}, allowed=AVAILABILITY["env"])
    assert str(raised.value) == "Unrecognized function: 'always'"
    assert evaluate("needs.a.result", {}, allowed=job_if) is None  # allowed but absent: null
    assert condition("github.ref == 'x' || always()", {"github": {"ref": "y"}}, allowed=job_if) is True
    assert evaluate("contains('ab', 'b')", {}, allowed=AVAILABILITY["run-name"]) is True


def test_availability_table() -> None:
    keys = {
        "run-name", "concurrency", "env", "jobs.<job_id>.if", "jobs.<job_id>.env", "jobs.<job_id>.steps.if",
        "jobs.<job_id>.steps.env", "jobs.<job_id>.steps.run", "jobs.<job_id>.services", "jobs.<job_id>.strategy",
        "jobs.<job_id>.outputs.<output_id>", "jobs.<job_id>.name", "jobs.<job_id>.timeout-minutes",
        "jobs.<job_id>.continue-on-error", "jobs.<job_id>.steps.with", "jobs.<job_id>.steps.working-directory",
        "jobs.<job_id>.steps.timeout-minutes", "jobs.<job_id>.steps.continue-on-error", "jobs.<job_id>.defaults.run",
    }  # fmt: skip
    assert keys <= set(AVAILABILITY)
    assert len(AVAILABILITY) == 34  # every row of GitHub's table
    steps_if = AVAILABILITY["jobs.<job_id>.steps.if"]
    assert steps_if.functions == {"always", "cancelled", "success", "failure", "hashFiles"}
    assert "secrets" not in steps_if.contexts
    assert AVAILABILITY["jobs.<job_id>.strategy"].contexts == {"github", "needs", "vars", "inputs"}


def test_hash_files(tmp_path: Path) -> None:
    for relative in ("a.txt", "src/b.txt", "src/deep/c.txt", ".hidden", "docs/x.md"):
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(relative, encoding="utf-8")

    def expected(*relatives: str) -> str:
        total = hashlib.sha256()
        for relative in sorted(relatives):
            total.update(hashlib.sha256((tmp_path / relative).read_bytes()).digest())
        return total.hexdigest()

    def hash_of(*patterns: str) -> Any:
        arguments = ", ".join("'" + pattern.replace("'", "''") + "'" for pattern in patterns)
        return evaluate(f"hashFiles({arguments})", {}, workspace=tmp_path)

    assert hash_of("**/*.txt") == expected("a.txt", "src/b.txt", "src/deep/c.txt")
    assert hash_of("*.txt") == expected("a.txt")
    assert hash_of("src") == expected("src/b.txt", "src/deep/c.txt")  # a directory matches what is below it
    assert hash_of("src/**", "!src/deep") == expected("src/b.txt")
    assert hash_of("**/*.txt\n!a.txt") == expected("src/b.txt", "src/deep/c.txt")
    assert hash_of("/docs/*.md", "*hidden") == expected("docs/x.md", ".hidden")
    assert hash_of("nothing/**") == ""
    with pytest.raises(ExpressionError, match="at least one pattern"):
        hash_of("# comment only")


def test_interpolate_and_templates() -> None:
    contexts = {"matrix": {"os": "linux", "n": 3, "list": [1, "a"], "none": None, "flag": True}}
    text = "os=${{ matrix.os }} n=${{ matrix.n }} none=[${{ matrix.none }}] flag=${{ matrix.flag }}"
    assert interpolate(text, contexts) == "os=linux n=3 none=[] flag=true"
    assert interpolate("${{ matrix.list }}", contexts) == '[\n  1,\n  "a"\n]'
    assert interpolate("${{ format('{0}}}', 'x') }}!", contexts) == "x}!"  # }} inside a string does not close
    assert interpolate("no expression {{ here }}", contexts) == "no expression {{ here }}"
    assert evaluate_template("${{ matrix.list }}", contexts) == [1.0, "a"]
    assert evaluate_template("${{ matrix.flag }}", contexts) is True
    assert evaluate_template(" ${{ matrix.flag }}", contexts) == " true"
    with pytest.raises(ExpressionError, match="An expression was expected"):
        interpolate("${{ }}", contexts)
    with pytest.raises(ExpressionError, match="The expression is not closed"):
        interpolate("${{ matrix.os ", contexts)


def test_to_string_and_truthy() -> None:
    assert [to_string(value) for value in (None, True, False, 3, 2.5, 1e21, "x")] == [
        "",
        "true",
        "false",
        "3",
        "2.5",
        "1e+21",
        "x",
    ]
    assert to_string({"a": [1]}) == '{\n  "a": [\n    1\n  ]\n}'
    samples: list[Any] = [None, False, 0, 0.0, math.nan, "", [], {}, "0", -1]
    assert [truthy(value) for value in samples] == [
        False, False, False, False, False, False, True, True, True, True,
    ]  # fmt: skip


def test_contexts_are_not_modified_and_results_are_plain() -> None:
    contexts = {"obj": {"a": [1, {"b": 2}]}}
    result = evaluate("obj", contexts)
    assert result == {"a": [1.0, {"b": 2.0}]}
    assert contexts == {"obj": {"a": [1, {"b": 2}]}}
    assert type(result["a"][0]) is float


def test_known_answers_from_github() -> None:
    """GitHub's own test vectors (actions/languageservices), checked without Node."""
    failures = []
    checked = 0
    for case in load_vectors():
        expected = case.get("expected")
        if expected is None or "typescript" in case.get("upstream_skip", []):
            continue
        checked += 1
        try:
            value = evaluate(case["expression"], case.get("contexts") or standard_contexts())
        except ExpressionError as error:
            # Upstream expects its text within the message plus ". Located at position..." for parse errors.
            if "error" not in expected or expected["error"].split(". Located")[0] not in str(error):
                failures.append((case["expression"], str(error), expected))
            continue
        if "error" in expected or not _same_value(value, expected["value"], expected["kind"]):
            failures.append((case["expression"], value, expected))
    assert checked > 900
    assert not failures, failures[:10]


def _same_value(value: Any, expected: Any, kind: str) -> bool:
    if kind == "Number":
        return isinstance(value, float) and (value == expected or (math.isnan(value) and expected is None))
    if kind == "Boolean":
        return value is expected
    return bool(value == expected)


def test_benchmark_runs() -> None:
    assert time_thousand(standard_contexts()) > 0
