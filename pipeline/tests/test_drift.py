"""`nox -s workflows` fails on each kind of drift, naming the file and line."""

from __future__ import annotations

import ast
import dataclasses
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline import drift, facts, findings, images, workflows
from pipeline.conftest import RunNox
from pipeline.errors import UserError
from pipeline.facts import ROOT, ServiceImages, SettingsModules

CI = ".github/workflows/ci.yml"
SECURITY = ".github/workflows/security.yml"
DEPLOY = ".github/workflows/deploy.yml"
COMPOSE_CI = "compose/ci.yaml"
SETUP_PYTHON_313 = (
    "      - uses: actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065 # v5.6.0\n"
    "        with:\n"
    '          python-version: "3.13"\n'
)
IMAGE_JOB_PERMISSIONS = "    timeout-minutes: 30\n    permissions:\n      contents: read\n    steps:"


def replace(relative: str, old: str, new: str) -> Callable[[Path], None]:
    def inject(root: Path) -> None:
        path = root / relative
        text = path.read_text()
        assert old in text, (relative, old)
        path.write_text(text.replace(old, new, 1))

    return inject


def line_containing(root: Path, relative: str, needle: str) -> int:
    lines = (root / relative).read_text().splitlines()
    return next(number for number, line in enumerate(lines, start=1) if needle in line)


DRIFTS = [
    pytest.param(
        replace(
            CI,
            "  UV_PYTHON_DOWNLOADS: never\n",
            "  UV_PYTHON_DOWNLOADS: never\n  DJANGO_SETTINGS_MODULE: config.settings.test\n",
        ),
        CI,
        "config.settings.test",
        "settings module config.settings.test is not one of",
        id="settings-test-module",
    ),
    pytest.param(
        replace(CI, "run: python3 bootstrap.py invoke build-image", "run: docker build ."),
        CI,
        "run: docker build .",
        "must be one call",
        id="run-line-not-a-session",
    ),
    pytest.param(
        replace(CI, "invoke check-container --mode validate", "invoke check-containers --mode validate"),
        CI,
        "check-containers",
        "invoke task 'check-containers' does not exist",
        id="unknown-task",
    ),
    pytest.param(
        replace(
            ".github/workflows/security.yml",
            "run: python3 bootstrap.py nox -s bandit",
            "run: python3 bootstrap.py nox -s banditt",
        ),
        ".github/workflows/security.yml",
        "nox -s banditt",
        "nox session 'banditt' does not exist",
        id="unknown-session",
    ),
    pytest.param(
        replace(
            CI,
            "    timeout-minutes: 30\n    permissions:\n      contents: read\n    steps:",
            "    timeout-minutes: 30\n    steps:",
        ),
        CI,
        "  image:",
        "job image declares no `permissions`",
        id="missing-permissions",
    ),
    pytest.param(
        replace("backend/Dockerfile", "ARG BASE_IMAGE=python-image", "ARG BASE_IMAGE=python:3.12-slim-bookworm"),
        "backend/Dockerfile",
        "ARG BASE_IMAGE",
        "must be ARG BASE_IMAGE=python-image",
        id="dockerfile-base-argument",
    ),
    pytest.param(
        replace("backend/Dockerfile", "FROM ${BASE_IMAGE} AS runtime", "FROM python:3.12-slim-bookworm AS runtime"),
        "backend/Dockerfile",
        "AS runtime",
        "FROM python:3.12-slim-bookworm names an image by hand",
        id="dockerfile-image-by-hand",
    ),
    pytest.param(
        replace(".github/dependabot.yml", 'versions: [">= 3.14"]', 'versions: [">= 3.15"]'),
        ".github/dependabot.yml",
        "directory: /backend",
        "docker updates must ignore python versions '>= 3.14'",
        id="dependabot-python-bound",
    ),
    pytest.param(
        replace(
            "compose/ci.yaml",
            "postgres:\n    extends: { file: services.yaml",
            "postgres:\n    extends: { file: service.yaml",
        ),
        "compose/ci.yaml",
        "file: service.yaml",
        "extends service.yaml, which does not exist",
        id="compose-missing-file",
    ),
    pytest.param(
        replace(".pre-commit-config.yaml", "entry: python3 bootstrap.py nox -s bandit", "entry: bandit -r ."),
        ".pre-commit-config.yaml",
        "entry: bandit -r .",
        "hook bandit must call",
        id="pre-commit-hook",
    ),
    pytest.param(
        replace(CI, "image: ${{ matrix.postgres-image }}", "image: postgres:16-bookworm"),
        CI,
        "image: postgres:16-bookworm",
        "service postgres image postgres:16-bookworm: write ${{ matrix.postgres-image }}",
        id="service-image-by-hand",
    ),
    pytest.param(
        replace(SECURITY, SETUP_PYTHON_313, ""),
        SECURITY,
        "run: python3 bootstrap.py nox -s audit",
        "nox -s audit runs on Python 3.13, which no setup-python step of job audit installs",
        id="session-python-not-installed",
    ),
    pytest.param(
        replace(CI, "            3.11\n            3.12\n            3.13\n", "            3.12\n            3.13\n"),
        CI,
        "python-version: |",
        "a list must be every supported Python, the newest last (the default): 3.11, 3.12, 3.13",
        id="python-version-list-incomplete",
    ),
    pytest.param(
        replace(
            "backend/config/wsgi.py",
            "from django.core.wsgi import get_wsgi_application\n",
            "import os\n\nfrom django.core.wsgi import get_wsgi_application\n\n"
            'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")\n',
        ),
        "backend/config/wsgi.py",
        '"config.settings.production"',
        "settings module config.settings.production written by hand: the name travels only as DJANGO_SETTINGS_MODULE",
        id="settings-default-in-backend-code",
    ),
    pytest.param(
        replace(CI, "uses: ./.github/workflows/deploy.yml", "uses: $/.github/workflows/deploy.yml"),
        CI,
        "uses: $/.github/workflows/deploy.yml",
        "actionlint (which `nox -s workflows` runs on GitHub) rejects `$/`",
        id="reusable-call-self-repository-syntax",
    ),
    pytest.param(
        replace(CI, "uses: ./.github/workflows/deploy.yml", "uses: ./.github/workflows/deploy-prod.yml"),
        CI,
        "uses: ./.github/workflows/deploy-prod.yml",
        "uses: ./.github/workflows/deploy-prod.yml does not exist",
        id="reusable-call-missing-file",
    ),
    pytest.param(
        replace(SECURITY, 'version: "0.13.9"', 'version: "0.13.8"'),
        SECURITY,
        "astral-sh/setup-uv",
        'setup-uv installs uv 0.13.8; it must be the uv uv.lock pins: version: "0.13.9"',
        id="setup-uv-version",
    ),
    pytest.param(
        replace(CI, "cache-suffix: ${{ matrix.session }}", "cache-suffix: ${{ matrix.python }}"),
        CI,
        "astral-sh/setup-uv",
        "setup-uv needs `cache-suffix: ${{ matrix.session }}` (one uv cache per session or job)",
        id="setup-uv-cache-per-session",
    ),
]


@pytest.mark.parametrize(("inject", "relative", "needle", "message"), DRIFTS)
def test_drift_fails_naming_file_and_line(
    project_copy: Path, run_nox: RunNox, *, inject: Callable[[Path], None], relative: str, needle: str, message: str
) -> None:
    inject(project_copy)
    result = run_nox("-s", "workflows")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    expected_line = line_containing(project_copy, relative, needle)
    assert f"{relative}:{expected_line}: " in output, output[-3000:]
    assert message in output


def test_zizmor_in_the_same_session_refuses_unpinned_actions_and_persisted_credentials(
    project_copy: Path, run_nox: RunNox
) -> None:
    """The rules drift leaves to zizmor: a tag instead of a commit SHA (unpinned-uses), a checkout that keeps
    its token in .git/config (artipacked); both fail `nox -s workflows`, drift having passed."""
    replace(
        CI,
        "docker/setup-docker-action@77e84dbf09b47d1e29270283c22f16145aa85ca1 # v5.4.0",
        "docker/setup-docker-action@v5",
    )(project_copy)
    ci = project_copy / CI
    text = ci.read_text()
    image_job = text.index("\n  image:\n")  # its checkout has no other input
    ci.write_text(
        text[:image_job] + text[image_job:].replace("        with:\n          persist-credentials: false\n", "", 1)
    )
    result = run_nox("-s", "workflows")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "workflows: no drift from the facts; GitHub's parser accepts every workflow" in output
    assert "unpinned-uses" in output, output[-3000:]
    assert "artipacked" in output


def test_the_project_as_it_stands_has_no_drift(run_nox: RunNox) -> None:
    result = run_nox("-s", "workflows")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


# --- pure logic of the workflows module ----------------------------------------


def test_matrices_route_sessions_by_tag() -> None:
    sessions: list[dict[str, Any]] = [
        {"session": "lint", "python": "3.13", "tags": []},
        {"session": "tests-3.11", "python": "3.11", "tags": ["tests"]},
        {"session": "coverage", "python": "3.13", "tags": ["coverage"]},
        {"session": "new-gate", "python": None, "tags": []},
        {"session": "tooling(engine)", "python": "3.13", "tags": ["tooling", "docker"]},
        {"session": "docker-gate", "python": "3.13", "tags": ["docker"]},
    ]
    services = ServiceImages("pg:local", "redis:local", "postgres:17-bookworm", "redis:8-bookworm")
    assert workflows.matrices(sessions, services) == {
        "checks": [
            {"session": "lint", "python": "3.13"},
            {"session": "new-gate", "python": ""},
            {"session": "docker-gate", "python": "3.13"},
        ],
        "tests": [
            {
                "session": "tests-3.11",
                "python": "3.11",
                "postgres-image": "postgres:17-bookworm",
                "redis-image": "redis:8-bookworm",
            }
        ],
        "tooling": [{"session": "tooling(engine)", "python": "3.13"}],
        "coverage": [{"session": "coverage", "python": "3.13"}],
    }


# What Dependabot's docker updates write: one FROM line each, nothing else.
IMAGE_BUMPS = {
    "FROM python:3.12-slim-bookworm AS python-image": "FROM python:3.13-slim-bookworm AS python-image",
    "FROM node:20-bookworm-slim AS node-image": "FROM node:22-bookworm-slim AS node-image",
    "FROM postgres:16-bookworm AS postgres-image": "FROM postgres:17-bookworm AS postgres-image",
    "FROM redis:7-bookworm AS redis-image": "FROM redis:8-bookworm AS redis-image",
}


def test_an_image_bump_is_one_line_that_everything_follows(project_copy: Path, run_nox: RunNox) -> None:
    for old, new in IMAGE_BUMPS.items():
        replace("backend/Dockerfile", old, new)(project_copy)
    result = run_nox("-s", "workflows")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    bumped = facts.parse(tomllib.loads((project_copy / "pyproject.toml").read_text()), project_copy, environ={})
    assert (bumped.image.python, bumped.image.base) == ("3.13", "python:3.13-slim-bookworm")
    assert bumped.image.node_image == "node:22-bookworm-slim"
    assert images.image_build_args(bumped)["NODE_IMAGE"] == "node:22-bookworm-slim"
    tests = workflows.matrices([{"session": "tests-3.13", "python": "3.13", "tags": ["tests"]}], bumped.services)
    assert tests["tests"][0]["postgres-image"] == "postgres:17-bookworm"
    assert tests["tests"][0]["redis-image"] == "redis:8-bookworm"


def test_github_output_lines_are_compact_json() -> None:
    assert workflows.github_output_lines({"tests": [{"a": "b"}]}) == 'tests=[{"a":"b"}]\n'


@pytest.mark.parametrize(
    ("needs", "problem"),
    [
        ("", "NEEDS is not set"),
        ("   ", "NEEDS is not set"),
        ("{}", "NEEDS lists no job"),
        ("[]", "not the `needs` context"),
        ('{"tests": "success"}', "not the `needs` context"),
        ('{"tests": {"result": "success"}', "NEEDS is not JSON"),
    ],
)
def test_the_gate_fails_closed_on_missing_or_malformed_needs(needs: str, problem: str) -> None:
    with pytest.raises(UserError, match=problem) as raised:
        workflows.job_results(needs)
    assert "toJSON(needs)" in raised.value.fix


def test_job_results_and_failures() -> None:
    results = workflows.job_results('{"tests": {"result": "failure"}, "image": {"result": "success"}}')
    assert workflows.failed_jobs(results) == ["tests"]
    with pytest.raises(UserError):
        workflows.job_results("not json")


def test_failure_issue_has_one_title_per_workflow() -> None:
    title, body = workflows.failure_issue("CI", {"tests": "failure", "image": "success"}, "https://run/1")
    assert title == "CI is failing on main"
    assert "| tests | failure |" in body
    assert "image" not in body
    assert "https://run/1" in body


def test_promotion_pins_a_digest() -> None:
    ref = "ghcr.io/o/backend@sha256:" + "a" * 64
    assert images.promote_command(ref, "production") == [
        "docker",
        "buildx",
        "imagetools",
        "create",
        "--tag",
        "ghcr.io/o/backend:production",
        ref,
    ]
    with pytest.raises(UserError, match="not pinned to a digest"):
        images.promote_command("ghcr.io/o/backend:latest", "production")


# --- the settings module's one road ---------------------------------------------------


def source_with(tmp_path: Path, relative: str, text: str) -> drift.Source:
    (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / relative).write_text(text)
    return drift.Source(tmp_path, relative)


def renamed_facts(tmp_path: Path) -> facts.Facts:
    """The facts of a project whose settings package is `orders_service.conf` (its modules exist)."""
    backend = tmp_path / "backend"
    for name in ("dev", "test", "prod"):
        source_with(tmp_path, f"backend/orders_service/conf/{name}.py", "")
    return dataclasses.replace(
        facts.load(),
        backend_dir=backend,
        settings=SettingsModules("orders_service.conf.dev", "orders_service.conf.test", "orders_service.conf.prod"),
    )


def messages(findings: Any) -> list[str]:
    return [f"{finding.line}: {finding.message}" for finding in findings]


@pytest.mark.parametrize(
    ("image_ref", "found"), [("${{ steps.build.outputs.image }}", False), ("backend:local", True), ("x:1", True)]
)
def test_a_scanned_image_comes_from_the_build_step(tmp_path: Path, image_ref: str, found: bool) -> None:
    """The image name is a fact: a workflow takes it from `invoke build-image --output`, never writes it."""
    source = source_with(tmp_path, SECURITY, f"steps:\n  - uses: x/y@v1\n    with:\n      image-ref: {image_ref}\n")
    step = {"uses": "x/y@v1", "with": {"image-ref": image_ref}}
    findings = messages(drift.step_findings(facts.load(), source, 1, step, sessions=set(), tasks=set()))
    expected = (
        f"4: image-ref {image_ref} is written by hand: take it from the build step (`id: build`, "
        '`invoke build-image --output "$GITHUB_OUTPUT"`, image-ref: ${{ steps.build.outputs.image }})'
    )
    assert [message for message in findings if "image-ref" in message] == ([expected] if found else [])


def test_the_settings_rule_follows_a_renamed_settings_package(tmp_path: Path) -> None:
    renamed = renamed_facts(tmp_path)
    assert renamed.settings.packages == ("orders_service.conf",)
    readme = source_with(tmp_path, "README.md", "use orders_service.conf.prod\nor orders_service.conf.staging\n")
    assert messages(drift.settings_findings(renamed, readme)) == [
        "2: settings module orders_service.conf.staging is not one of [tool.pipeline.settings] "
        "(orders_service.conf.dev, orders_service.conf.prod, orders_service.conf.test)"
    ]
    compose = source_with(tmp_path, "compose/x.yaml", "DJANGO_SETTINGS_MODULE: orders_service.conf.prod\n")
    assert messages(drift.settings_findings(renamed, compose, by_hand=False)) == [
        f"1: settings module orders_service.conf.prod written by hand: {drift.SETTINGS_ROAD}"
    ]


def test_the_settings_pattern_matches_only_the_facts_package() -> None:
    pattern = drift.settings_pattern(facts.load())
    assert pattern.findall("config.settings.production, myconfig.settings.x, a.config.settings.y") == [
        "config.settings.production"
    ]


def test_backend_python_may_not_name_a_settings_module(tmp_path: Path) -> None:
    renamed = renamed_facts(tmp_path)
    source_with(tmp_path, "backend/orders_service/conf/dev.py", "from orders_service.conf.base import *\n")
    source_with(tmp_path, "backend/manage.py", 'import os\nos.environ.setdefault("X", "orders_service.conf.dev")\n')
    source_with(tmp_path, "backend/orders/migrations/0001.py", 'X = "orders_service.conf.dev"\n')
    found = [str(finding) for finding in drift.backend_python_findings(renamed, tmp_path)]
    assert found == [
        f"backend/manage.py:2: settings module orders_service.conf.dev written by hand: {drift.SETTINGS_ROAD}"
    ]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("ARG DJANGO_SETTINGS_MODULE\n", "ARG DJANGO_SETTINGS_MODULE=x.y\n", "has a default"),
        ("ARG DJANGO_SETTINGS_MODULE\n", "\n", "the runtime stage needs `ARG DJANGO_SETTINGS_MODULE`"),
        ("=${DJANGO_SETTINGS_MODULE}", "=x.y", "the runtime stage needs `ENV"),
    ],
)
def test_the_image_takes_the_settings_module_from_its_build_argument(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    dockerfile = (facts.load().image.dockerfile).read_text()
    assert old in dockerfile
    assert messages(drift.dockerfile_settings_findings(source_with(tmp_path, "Dockerfile", dockerfile))) == []
    broken = source_with(tmp_path, "Dockerfile", dockerfile.replace(old, new, 1))
    assert any(message in found for found in messages(drift.dockerfile_settings_findings(broken)))


def test_findings_list_their_fix_once_for_a_run_of_the_same_fix() -> None:
    found = [
        findings.Finding("b.yml", 3, "second", "fix B"),
        findings.Finding("a.yml", 9, "first", "fix A", column=4),
        findings.Finding("b.yml", 1, "also B", "fix B"),
    ]
    assert findings.lines(found) == [
        "a.yml:9:4: first",
        "    fix: fix A",
        "b.yml:1: also B",
        "    fix: fix B",
        "b.yml:3: second",
    ]


def import_time_imports(statements: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports a module runs when it is imported: not those in functions, nor under TYPE_CHECKING."""
    for statement in statements:
        if isinstance(statement, ast.Import | ast.ImportFrom):
            yield statement
        elif isinstance(statement, ast.If) and not ast.unparse(statement.test).endswith("TYPE_CHECKING"):
            yield from import_time_imports([*statement.body, *statement.orelse])
        elif isinstance(statement, ast.Try):
            yield from import_time_imports([*statement.body, *statement.orelse, *statement.finalbody])


def imported_pipeline_modules(start: str) -> set[str]:
    """The pipeline modules importing `start` imports, directly or through others (read from their source)."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = ROOT / (name.replace(".", "/") + ".py")
        if not path.is_file():
            path = ROOT / name.replace(".", "/") / "__init__.py"
        if not path.is_file():
            continue
        for node in import_time_imports(ast.parse(path.read_text()).body):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pipeline"):
                todo += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                todo += [alias.name for alias in node.names if alias.name.startswith("pipeline")]
    return seen


def test_drift_reads_the_compose_facts_without_the_docker_code() -> None:
    reached = imported_pipeline_modules("pipeline.workflow_checks")
    assert "pipeline.compose_settings" in reached
    assert {"pipeline.containers", "pipeline.engine", "pipeline.images"} & reached == set()


@pytest.mark.parametrize(
    ("permissions", "uses", "expected"),
    [
        ({"contents": "read", "id-token": "write", "attestations": "write"}, "actions/attest@abc", []),
        (
            {"contents": "read", "id-token": "write"},
            "actions/attest@abc",
            ["runs actions/attest without attestations: write"],
        ),
        ({"contents": "read"}, "actions/attest@abc", ["without id-token: write, attestations: write"]),
        ({"contents": "read", "id-token": "write"}, "aws-actions/configure-aws-credentials@abc", []),
        (
            {"attestations": "write", "id-token": "read"},
            "x/y@abc",
            ["holds attestations: write but runs no actions/attest"],
        ),
        ({"contents": "read"}, "x/y@abc", []),
        ({"contents": "read"}, "actions/attest-build-provenance@abc", ["without id-token: write, attestations: write"]),
        ("write-all", "actions/attest-sbom@abc", []),
    ],
)
def test_only_the_job_that_attests_may_sign(permissions: dict[str, str], uses: str, expected: list[str]) -> None:
    job = {"permissions": permissions, "steps": [{"uses": uses}]}
    found = [
        finding.message for finding in drift.attestation_permission_findings(drift.Source(facts.ROOT, CI), "j", 1, job)
    ]
    assert len(found) == len(expected)
    for message, part in zip(found, expected, strict=True):
        assert part in message


def test_the_publish_job_without_attestations_write_fails_the_workflow_checks(tmp_path: Path) -> None:
    """The rule runs on the real deploy.yml: as it stands nothing is named; with `attestations: write` taken
    from its publish job, that job is."""

    def attestation_findings(text: str) -> list[str]:
        source = source_with(tmp_path, DEPLOY, text)
        data = workflows.load(tmp_path / DEPLOY)
        found = drift.workflow_findings(facts.load(), source, data, sessions=set(), tasks=set())
        return [message for message in messages(found) if "attest" in message]

    text = (facts.ROOT / DEPLOY).read_text()
    assert attestation_findings(text) == []
    assert text.count("      attestations: write\n") == 1
    publish = text.splitlines().index("  publish:") + 1
    assert attestation_findings(text.replace("      attestations: write\n", "")) == [
        f"{publish}: job publish runs actions/attest without attestations: write"
    ]
