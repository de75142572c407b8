"""Cases for the differential test: public vectors, edge cases, and expressions generated from the grammar."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from pipeline.actions.expressions import AVAILABILITY

VECTORS = Path(__file__).parent / "data" / "expression_vectors.json"

Case = dict[str, Any]

# fmt: off
STRINGS = [
    "", " ", "a", "A", "abc", "ABC", "Abc", "abcd", "b", "0", "1", " 1 ", "1.0", "-1", "+1", "1e3", "1E-3",
    "0x1F", "0X1f", "0o17", "0b101", "0x", ".5", "5.", "1_000", "Infinity", "-Infinity", "infinity", "NaN",
    "true", "false", "null", "TRUE", "\t12\n", "\u00a012\u00a0", "\u0661", "\u0131", "I", "i", "\u0130", "\u00df",
    "SS", "ss", "\u03c3", "\u03c2", "\u03a3", "\u00e9", "\u00c9", "\U0001f4a5", "a\U0001f4a5", "\uffff", "{0}", "{{",
    "}}", "{0} {1}", "{1}", "{", "}", "{x}", "{0:x}", "'", "''", "it''s", "refs/heads/main", "REFS/HEADS/MAIN",
    "a,b", "[1,2]", '{"a":1}', "1 2", "-0", "0.1", "1e21", "1e-7", "123456789012345678", "line\nbreak",
    'quote"d', "back\\slash", "\u0001",
]
NUMBERS: list[float] = [
    0, 1, -1, 2, 3, 0.5, 1.5, -2.5, 1e21, 1e-7, 123456789.123456789, 0.1 + 0.2, 1e300, -0.0, 2.0**53,
    0.000001, 1.0000000000000002, 42, 7.25, 1e15 + 0.3, 5e-324,
]
NUMBER_LITERALS = [
    "0", "1", "-1", "1.5", ".5", "5.", "0x1F", "0xff", "1e3", "-2.99e-2", "Infinity", "-Infinity", "NaN", "+3",
    "007", "0o17", "0b11", "1e21", "123456789012345678901234", "0.1", "-0", "1.25e-8", "9007199254740993",
]
KEYS = [
    "a", "A", "b", "name", "Name", "NAME", "x-y", "_z", "1", "0", "10", "2", "key with space", "\u0131", "I", "ref",
]
IDENTIFIER_KEYS = ["a", "A", "b", "name", "Name", "NAME", "x-y", "_z", "ref", "missing", "true", "null", "NaN"]
CONTEXT_NAMES = ["github", "env", "matrix", "steps", "obj", "arr", "Mixed", "s", "n"]
FUNCTION_SPELLINGS = {
    "contains": ["contains", "CONTAINS"], "startswith": ["startsWith", "startswith"],
    "endswith": ["endsWith", "ENDSWITH"], "format": ["format", "Format"], "join": ["join"],
    "tojson": ["toJSON", "tojson", "toJson"], "fromjson": ["fromJSON", "fromjson", "fromJson"],
    "case": ["case", "CASE"],
}
JSON_TEXTS = [
    "", " ", "\u00a0", "{", "[1,]", "NaN", "01", "'a'", "1 2", '{"a":1,"A":2}', '{"b":1,"2":3,"1":4,"B":5}',
    "-0", "1e400", '"\\ud83d\\ude00"', "[[[]]]", "null", "true", " 12 ", '{"a":{"b":[1,{"c":"d"}]}}', "1.",
]
WORKSPACE_FILES = {
    "a.txt": "alpha\n", "b.md": "# bravo\n", ".hidden": "dot\n", "src/a.txt": "source a\n", "src/b.txt": "source b\n",
    "src/.hidden": "source dot\n", "src/deep/c.txt": "deep c\n", "src/deep/d.js": "deep d\n", "docs/a.md": "docs a\n",
    "docs/b.md": "docs b\n",
}
HASH_PATTERNS = [
    "**/*.txt", "*.md", "src/**", "!src/b.txt", "src/", "nothing", "**", "**/.hidden", "src/*.[tx]*", "/docs/*.md",
    "docs\n!docs/b.md", "# comment", "", " ", "src/deep", "src/**/*.js", "!**/deep/**", "src/?.txt", "*",
]
# fmt: on


def load_vectors() -> list[Case]:
    cases: list[Case] = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]
    return cases


def make_workspace(root: Path) -> Path:
    for relative, content in WORKSPACE_FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return root


def standard_contexts() -> dict[str, Any]:
    """Realistic contexts for vectors that name none: a pull_request run with a matrix and two steps."""
    return {
        "github": {
            "event_name": "pull_request",
            "ref": "refs/pull/7/merge",
            "ref_name": "7/merge",
            "head_ref": "feature/Expressions",
            "base_ref": "main",
            "repository": "octo/Backend",
            "repository_owner": "octo",
            "actor": "mona",
            "sha": "0123456789abcdef",
            "run_number": "12",
            "workflow": "CI",
            "event": {
                "action": "labeled",
                "number": 7,
                "pull_request": {
                    "title": "Add ${{ things }}",
                    "draft": False,
                    "head": {"ref": "feature/Expressions", "repo": {"fork": True, "full_name": "fork/Backend"}},
                    "labels": [{"name": "bug"}, {"name": "Safe To Test"}],
                    "user": {"login": "dependabot[bot]"},
                },
                "issue": {"labels": [{"name": "bug"}, {"name": "help wanted"}], "body": "/command"},
                "inputs": {"debug": "true"},
                "commits": [{"message": "fix: one"}, {"message": "[skip ci] two"}],
            },
        },
        "env": {"CI": "true", "NAME": "Mona", "COUNT": "3", "EMPTY": ""},
        "vars": {"DEPLOY": "yes"},
        "secrets": {"GITHUB_TOKEN": "***"},
        "inputs": {"debug": True, "version": "1.2"},
        "matrix": {"os": "ubuntu-latest", "python": "3.12", "experimental": False, "include": [{"x": 1}]},
        "strategy": {"fail-fast": True, "job-index": 0, "job-total": 3},
        "steps": {"build": {"outputs": {"image": "backend:1", "changed": "true"}, "outcome": "success"}},
        "needs": {"build": {"result": "success", "outputs": {"matrix": '{"include":[{"a":1}]}'}}},
        "runner": {"os": "Linux", "arch": "X64", "temp": "/home/runner/work/_temp"},
        "job": {"status": "success"},
        "jobs": {"build": {"result": "success"}},
    }


def edge_cases() -> list[Case]:
    """Hand-written corners: nesting limits, length limit, lexer oddities, the `*` filter chain."""
    cases = [f"{'(' * n}1{')' * n}" for n in (48, 49, 50, 51)]
    cases += [f"{'!' * n}true" for n in (48, 49, 50)]
    cases += ["obj" + ".a" * n for n in (48, 49, 50)]
    cases += ["'" + "a" * 20998 + "'", "'" + "a" * 20999 + "'", "'" + "💥" * 10499 + "'"]
    # fmt: off
    cases += [
        "1 == 1 == 1", "a.b", "obj.a.", "obj.", "obj[", "obj[*", "obj[]", "obj.*.*", "arr.*.*", "arr.*[0]",
        "arr[*].name", "(arr.*)[0]", "arr.*.name[0]", "obj['a']['b']", "'abc'[0]", "1.5.2", "1.foo", "a..b", "obj .a",
        "obj. a", "obj.1", "obj.true", "obj.NaN", "obj['constructor' ]", "x = 1", "1 = 1", "1 & 2", "1 | 2",
        "1 &&& 2", "a ||| b", "!= 1", "!!", "()", "(", ")", "[1]", "*", "obj.*", "obj[*]", "true.x", "'a' 'b'",
        "'unterminated", "'a''b''c'", "''''", "'''", "f(1)", "contains(1,)", "contains(1,,2)", "format()",
        "format('{0}')", "format('{0}', 1,)", "case(true, 1)", "case(true, 1, 2, 3)", "success(1)", "hashFiles()",
        "1 2", "-", "+", "-a", "--1", "- 1", "0x", "1e", "\xa01", "\t1\r\n", "\x0b1", "💥", "'💥' > 'ﬀ'",
        "'\uffff' > '💥'", "obj[1.9]", "arr[0.99999]", "arr[1e300]", "arr[-0]", "arr['1']", "arr[' 1 ']", "arr['']",
        "arr[null]", "arr[true]", "arr[fromJSON('[]')]", "obj[null]", "obj[1]", "obj[1.0]", "n[0]", "s[0]", "s.*",
        "n.*", "github.event == github.event", "arr == arr", "arr.* == arr.*", "contains(arr, arr)", "toJSON(arr.*)",
        "toJSON(obj)", "toJSON(Mixed)", "join(obj)", "join(arr)", "join(arr.*.name, obj)", "join(s, 1)",
        "fromJSON(arr)", "fromJSON(null)", "startsWith(arr, 'a')", "endsWith('a', arr)", "contains(obj, 'a')",
        "contains('Array', arr)", "obj[fromJSON('x')]", "obj[obj[fromJSON('')]]", "fromJSON('x')[fromJSON('y')]",
        "format('{0}', fromJSON(''))", "case(1 == 1, fromJSON(''), 2)", "true || fromJSON('')",
        "false && fromJSON('')", "null || 0 || '' || false", "1 && 'x' && null", "NaN || Infinity",
        "-Infinity < Infinity", "NaN == NaN", "NaN != NaN", "NaN >= NaN", "null >= null", "null < 1", "true > false",
        "true >= 1", "'' == null", "'  ' == 0", "'0x10' == 16", "'1e3' == 1000", "0.1 + 0.2", "format('{0}', 0.1)",
        "format('{0}', 1e21)", "format('{0}', 1e-7)", "format('{0}', -0)", "format('{0}', 123456789.123456789)",
        "format('{0}', 5e-324)", "format('{0}', 1e-16)", "format('{0}{1}', 1)", "format('{{{0}}}', 1)",
        "format('}}{{', 1)", "format('{0', 1)", "format('0}', 1)", "format('{a}', 1)", "format('{00}', 1)",
        "format('{0:N}', 2)", "format('{1}', 1, 2)", "format('{99999999999999999999}', 1)",
    ]
    # fmt: on
    return [{"source": "edge", "expression": expression} for expression in cases]


def status_cases() -> list[Case]:
    cases = []
    for failed in (False, True):
        for cancelled in (False, True):
            for expression in ("success()", "failure()", "cancelled()", "always()", "!cancelled()", "SUCCESS()"):
                cases.append({"expression": expression, "status": {"failed": failed, "cancelled": cancelled}})
    return [{"source": "status", **case} for case in cases]


def availability_cases() -> list[Case]:
    """Each row of the availability table against a context and a function it may or may not allow."""
    cases = []
    for key, allowed in AVAILABILITY.items():
        listing = {"contexts": sorted(allowed.contexts), "functions": sorted(allowed.functions)}
        for expression in ("github.ref", "secrets.X", "job.status", "steps.a", "always()", "hashFiles('x')", "env"):
            cases.append({"source": f"availability:{key}", "expression": expression, "allowed": listing})
    return cases


def hash_cases(workspace: Path) -> list[Case]:
    rng = random.Random(7)  # noqa: S311 (reproducible test data, not secrets)
    cases = [{"expression": f"hashFiles({_quote(pattern)})"} for pattern in HASH_PATTERNS]
    for _ in range(30):
        patterns = rng.sample(HASH_PATTERNS, rng.randint(1, 4))
        cases.append({"expression": "hashFiles(" + ", ".join(_quote(pattern) for pattern in patterns) + ")"})
    cases.append({"expression": "hashFiles(1, null, true)"})
    return [{"source": "hashFiles", "workspace": str(workspace), **case} for case in cases]


def number_cases() -> list[Case]:
    """Doubles across magnitudes: printing (15 decimals, exponents), JSON, parsing back from strings."""
    rng = random.Random(11)  # noqa: S311 (reproducible test data, not secrets)
    cases = []
    for _ in range(60):
        value = rng.uniform(1, 10) * 10.0 ** rng.randint(-24, 25) * rng.choice([1, -1])
        literal = rng.choice([repr(value), f"{value:.17g}", f"{value:.3e}", f"{value:.20f}".rstrip("0")])
        template = rng.choice(["format('{{0}}', {0})", "toJSON({0})", "{0} == '{0}'", "fromJSON('{0}')", "join({0})"])
        cases.append(template.format(literal))
    words = ["a", "B", "ß", "SS", "\u0131", "I", "İ", "i", "💥", "\uffff", "é", "E", "", "Z", "_", "[", "a💥"]
    for _ in range(60):
        left, right = rng.choice(words), rng.choice(words)
        cases.append(f"{_quote(left)} {rng.choice(['<', '<=', '==', '>', '>=', '!='])} {_quote(right)}")
    return [{"source": "numbers-strings", "expression": expression} for expression in cases]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def random_value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth <= 0 or roll < 0.5:
        return rng.choice([None, True, False, *NUMBERS[:8], *STRINGS, *STRINGS, rng.choice(NUMBERS)])
    if roll < 0.75:
        return [random_value(rng, depth - 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(KEYS): random_value(rng, depth - 1) for _ in range(rng.randint(0, 5))}


def random_contexts(rng: random.Random) -> dict[str, Any]:
    """Nested dictionaries and arrays with mixed-case keys, numbers and number-like strings."""
    return {
        "github": {
            "ref": rng.choice(STRINGS),
            "event": random_value(rng, 3),
            "event_name": rng.choice(["push", "PUSH"]),
        },
        "env": {rng.choice(KEYS): rng.choice(STRINGS) for _ in range(4)},
        "matrix": {rng.choice(KEYS): random_value(rng, 1) for _ in range(3)},
        "steps": {"a": {"outputs": {rng.choice(KEYS): rng.choice(STRINGS)}, "outcome": "success"}},
        "obj": {rng.choice(KEYS): random_value(rng, 2) for _ in range(5)},
        "arr": [{rng.choice(KEYS): random_value(rng, 1) for _ in range(3)} for _ in range(rng.randint(0, 4))],
        "Mixed": {"name": rng.choice(STRINGS), "Name": rng.choice(STRINGS), "2": 2, "1": [1, 2]},
        "s": rng.choice(STRINGS),
        "n": rng.choice(NUMBERS),
    }


def random_format_string(rng: random.Random) -> str:
    pieces = ["x", " ", "{0}", "{1}", "{2}", "{{", "}}", "{", "}", "{0:x}", "{ 0}", "'", "Ab", "{3}"]
    return _quote("".join(rng.choice(pieces) for _ in range(rng.randint(0, 5))))


def random_json_text(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(JSON_TEXTS)
    return json.dumps(random_value(rng, 3), ensure_ascii=rng.random() < 0.5)


def mutate(rng: random.Random, text: str) -> str:
    """A small syntax change: insert, delete or replace one character."""
    position = rng.randint(0, len(text))
    char = rng.choice(list("()[]'.,!=&|<> *-+x0"))
    edit = rng.choice(["insert", "delete", "replace"])
    if edit == "insert" or not text:
        return text[:position] + char + text[position:]
    position = min(position, len(text) - 1)
    return text[:position] + ("" if edit == "delete" else char) + text[position + 1 :]


def generated_cases(seed: int, count: int) -> list[Case]:
    """`count` random expressions over random contexts; about one in eight with a syntax mutation."""
    rng = random.Random(seed)  # noqa: S311 (reproducible test data, not secrets)
    writer = ExpressionWriter(rng)
    cases = []
    for number in range(count):
        contexts = random_contexts(rng)
        expression = writer.expression(rng.randint(1, 4))
        if rng.random() < 0.12:
            expression = mutate(rng, expression)
        cases.append({"source": f"generated:{number}", "expression": expression, "contexts": contexts})
    return cases


class ExpressionWriter:
    """Random expressions from the grammar: literals, paths, operators, calls (some with wrong arities)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def expression(self, depth: int) -> str:
        rng = self.rng
        roll = rng.random()
        if depth <= 0 or roll < 0.25:
            return self.atom(depth)
        below = depth - 1
        if roll < 0.4:
            text = self.path(depth)
        elif roll < 0.5:
            text = "!" + self._space() + self.expression(below)
        elif roll < 0.62:
            operator = self._space() + rng.choice(["==", "!=", "<", "<=", ">", ">="]) + self._space()
            text = self.expression(below) + operator + self.expression(below)
        elif roll < 0.74:
            operator = self._space() + rng.choice(["&&", "||"]) + self._space()
            text = operator.join(self.expression(below) for _ in range(rng.randint(2, 3)))
        elif roll < 0.8:
            text = "(" + self.expression(below) + ")"
        else:
            text = self.call(depth)
        return text

    def _space(self) -> str:
        return self.rng.choice([" ", " ", "", "\n", "  \t"])

    def atom(self, depth: int) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.15:
            return rng.choice(["null", "true", "false"])
        if roll < 0.35:
            return rng.choice(NUMBER_LITERALS)
        if roll < 0.6:
            return _quote(rng.choice(STRINGS))
        return self.path(depth)

    def path(self, depth: int) -> str:
        rng = self.rng
        name = rng.choice(CONTEXT_NAMES)
        text = rng.choice([name, name.upper(), name.capitalize()]) if rng.random() < 0.2 else name
        for _ in range(rng.randint(0, 4)):
            roll = rng.random()
            if roll < 0.4:
                text += "." + rng.choice(IDENTIFIER_KEYS)
            elif roll < 0.55:
                text += rng.choice([".*", "[*]"])
            elif roll < 0.75:
                text += "[" + rng.choice(["0", "1", "1.7", "-1", "'1'", "true", "null", "' 0x1 '", "2"]) + "]"
            elif roll < 0.9:
                text += "[" + _quote(rng.choice(KEYS)) + "]"
            else:
                text += "[" + self.expression(depth - 1) + "]"
        return text

    def call(self, depth: int) -> str:
        rng = self.rng
        name = rng.choice(list(FUNCTION_SPELLINGS))
        spelled = rng.choice(FUNCTION_SPELLINGS[name])
        if name in {"contains", "startswith", "endswith"}:
            count = rng.choice([2, 2, 2, 2, 1, 3])
            arguments = [self.expression(depth - 1) for _ in range(count)]
        elif name == "format":
            arguments = [random_format_string(rng)] + [self.expression(depth - 1) for _ in range(rng.randint(0, 3))]
        elif name == "join":
            arguments = [self.expression(depth - 1) for _ in range(rng.choice([1, 2, 2, 0, 3]))]
        elif name == "fromjson":
            arguments = [_quote(random_json_text(rng)) if rng.random() < 0.8 else self.expression(depth - 1)]
        elif name == "tojson":
            arguments = [self.expression(depth - 1)]
        else:
            pairs = rng.randint(1, 3)
            arguments = []
            for _ in range(pairs):
                predicate = self.expression(depth - 1)
                arguments += [predicate if rng.random() < 0.3 else f"{predicate} == {self.atom(0)}", self.atom(0)]
            if rng.random() < 0.9:
                arguments.append(self.atom(0))
        if rng.random() < 0.05:
            spelled = rng.choice(["unknown", "toString", "hashfiles", "success", "Always"])
        return spelled + "(" + ("," + self._space()).join(arguments) + ")"
