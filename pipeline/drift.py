"""Drift rules: workflows, compose files, the Dockerfile and pyproject must agree
with the single source of facts, and the workflows must stay one-line calls.

`pipeline.workflow_checks` reports these findings with the other checks of the
workflows (run by `nox -s workflows`).
"""

from __future__ import annotations

import ast
import dataclasses
import re
import sys
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from pipeline import changes, compose_settings, lockfiles, processes, workflows
from pipeline.console import plain_env
from pipeline.facts import IMAGE_STAGES, Area, Facts, load
from pipeline.findings import Finding

PINNED_USES = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"@[0-9a-f]{40}\s+#\s*v?\d")
RUN_LINE = re.compile(r"^python3 bootstrap\.py (?:nox -s (?P<session>\S+)|invoke (?P<task>[\w-]+))(?: .*)?$")
MATRIX_SESSION = '"$SESSION"'
MATRIX_PYTHON = "${{ matrix.python }}"
# One uv cache per session (matrix jobs) or job: a key shared by every job on one Python rarely holds what a job
# needs. Not `matrix.session || github.job` everywhere: actionlint refuses `matrix.X` in a job without a matrix.
CACHE_SUFFIX_MATRIX = "${{ matrix.session }}"
CACHE_SUFFIX_JOB = "${{ github.job }}"
FIX = "make the file agree with the facts (pyproject.toml's [tool.pipeline]), or change the facts in that one place"
CI_WORKFLOW = ".github/workflows/ci.yml"  # the workflow whose jobs [tool.pipeline.areas] names
LOCAL_WORKFLOW = re.compile(r"^\./\.github/workflows/[\w.-]+\.ya?ml$")


class Source:
    """A file's text, for finding the line a value sits on."""

    def __init__(self, root: Path, relative: str) -> None:
        self.root = root
        self.relative = relative
        self.text = (root / relative).read_text(encoding="utf-8")
        self.lines = self.text.splitlines()

    def line_of(self, needle: str, after: int = 0) -> int:
        for number, line in enumerate(self.lines[after:], start=after + 1):
            if needle in line:
                return number
        return max(after, 1)

    def finding(self, needle: str, message: str, after: int = 0) -> Finding:
        return Finding(self.relative, self.line_of(needle, after), message)


SETTINGS_ROAD = (
    "the name travels only as DJANGO_SETTINGS_MODULE, which nox and invoke set from [tool.pipeline.settings]"
)


def settings_pattern(facts: Facts) -> re.Pattern[str]:
    """A settings module name: a module of the facts' settings package(s), whatever the project calls them."""
    packages = "|".join(re.escape(package) for package in facts.settings.packages)
    return re.compile(rf"(?<![\w.])(?:{packages})\.[A-Za-z_]\w*")


def settings_findings(facts: Facts, source: Source, *, by_hand: bool = True) -> Iterator[Finding]:
    """Every settings module a file names must be a fact with a file; with by_hand=False, naming one is refused."""
    known = set(facts.settings.as_dict().values())
    pattern = settings_pattern(facts)
    for number, line in enumerate(source.lines, start=1):
        for module in pattern.findall(line):
            if module not in known:
                yield Finding(
                    source.relative,
                    number,
                    f"settings module {module} is not one of [tool.pipeline.settings] ({', '.join(sorted(known))})",
                )
            elif not by_hand:
                yield Finding(source.relative, number, f"settings module {module} written by hand: {SETTINGS_ROAD}")
            elif not (facts.backend_dir / (module.replace(".", "/") + ".py")).is_file():
                yield Finding(
                    source.relative, number, f"settings module {module} has no file in {facts.backend_dir.name}/"
                )


def workflow_findings(
    facts: Facts,
    source: Source,
    data: Mapping[str, Any],
    sessions: set[str],
    tasks: set[str],
    *,
    session_pythons: Mapping[str, set[str]] | None = None,
    uv_version: str | None = None,
) -> Iterator[Finding]:
    if data.get("permissions") != {}:
        yield source.finding("permissions", "top-level `permissions: {}` is missing (grant per job instead)")
    if "concurrency" not in data and "workflow_call" not in (data.get("on") or {}):
        yield source.finding("name:", "no `concurrency` group")
    for job_name, job in (data.get("jobs") or {}).items():
        job_line = source.line_of(f"  {job_name}:")
        if "permissions" not in job:
            yield Finding(source.relative, job_line, f"job {job_name} declares no `permissions`")
        if "uses" in job:  # a reusable workflow call
            yield from reusable_call_findings(source, job_line, str(job["uses"]))
            continue
        yield from attestation_permission_findings(source, job_name, job_line, job)
        if "timeout-minutes" not in job:
            yield Finding(source.relative, job_line, f"job {job_name} has no `timeout-minutes`")
        for service, definition in (job.get("services") or {}).items():
            yield from service_findings(source, job_line, service, str(definition.get("image", "")))
        cache_suffix = CACHE_SUFFIX_MATRIX if (job.get("strategy") or {}).get("matrix") else CACHE_SUFFIX_JOB
        for step in job.get("steps") or []:
            yield from step_findings(
                facts,
                source,
                job_line,
                step,
                sessions=sessions,
                tasks=tasks,
                uv_version=uv_version,
                cache_suffix=cache_suffix,
            )
        yield from job_python_findings(source, job_name, job_line, job, session_pythons or {})


ATTESTATION_PERMISSIONS = ("id-token", "attestations")
# actions/attest, and the two older actions it replaces (same permissions).
ATTEST_ACTIONS = ("actions/attest@", "actions/attest-build-provenance@", "actions/attest-sbom@")


def attestation_permission_findings(
    source: Source, job_name: str, job_line: int, job: Mapping[str, Any]
) -> Iterator[Finding]:
    """actions/attest needs `id-token: write` (its Sigstore certificate) and `attestations: write`; a job that
    holds `attestations: write` and attests nothing could sign as this repository for no reason. (`id-token`
    alone is left alone: a cloud login by OIDC needs it too.)"""
    permissions = job.get("permissions")
    granted = {
        name
        for name in ATTESTATION_PERMISSIONS
        if permissions == "write-all" or (isinstance(permissions, Mapping) and permissions.get(name) == "write")
    }
    attests = any(str(step.get("uses", "")).startswith(ATTEST_ACTIONS) for step in job.get("steps") or [])
    if attests and granted != set(ATTESTATION_PERMISSIONS):
        missing = ", ".join(f"{name}: write" for name in ATTESTATION_PERMISSIONS if name not in granted)
        yield Finding(source.relative, job_line, f"job {job_name} runs actions/attest without {missing}")
    if "attestations" in granted and not attests:
        yield Finding(
            source.relative,
            job_line,
            f"job {job_name} holds attestations: write but runs no actions/attest: grant it only to the job "
            "that attests",
        )


def service_findings(source: Source, job_line: int, service: str, image: str) -> Iterator[Finding]:
    """A service container runs the image nox's matrix names (from the Dockerfile's FROM line, which Dependabot
    updates): an image written into a workflow is a copy no bot updates."""
    key = workflows.SERVICE_IMAGE_KEYS.get(service)
    if key is None:
        yield source.finding(
            f"{service}:",
            f"service {service} is not one of the pipeline's services ({', '.join(workflows.SERVICE_IMAGE_KEYS)})",
            job_line,
        )
    elif image != f"${{{{ matrix.{key} }}}}":
        yield source.finding(
            f"image: {image}",
            f"service {service} image {image}: write ${{{{ matrix.{key} }}}} (nox's matrix carries the image of "
            f"the Dockerfile's `FROM ... AS {key}` line, which Dependabot updates)",
            job_line,
        )


def reusable_call_findings(source: Source, job_line: int, uses: str) -> Iterator[Finding]:
    """A workflow of this repository is called as ./.github/workflows/X.yml (and exists); pins are zizmor's."""
    line = source.line_of(f"uses: {uses}", job_line)
    if uses.startswith("$/"):
        yield Finding(
            source.relative,
            line,
            f"uses: {uses}: actionlint (which `nox -s workflows` runs on GitHub) rejects `$/`; write ./{uses[2:]}",
        )
    elif uses.startswith("./"):
        if not LOCAL_WORKFLOW.match(uses):
            yield Finding(source.relative, line, f"uses: {uses} must name a file in ./.github/workflows/")
        elif not (source.root / uses).is_file():
            yield Finding(source.relative, line, f"uses: {uses} does not exist")


def setup_python_versions(job: Mapping[str, Any]) -> set[str] | None:
    """The Pythons a job's setup-python steps install; None when one installs `matrix.python`."""
    versions: set[str] = set()
    for step in job.get("steps") or []:
        if str(step.get("uses", "")).startswith("actions/setup-python@"):
            value = str((step.get("with") or {}).get("python-version", ""))
            if value.strip() == MATRIX_PYTHON:
                return None
            versions.update(line.strip() for line in value.splitlines() if line.strip())
    return versions


def job_python_findings(
    source: Source, job_name: str, job_line: int, job: Mapping[str, Any], session_pythons: Mapping[str, set[str]]
) -> Iterator[Finding]:
    """A job that runs `nox -s NAME` installs NAME's Python with setup-python: a hosted runner has only
    its own python3, and the sessions never download one."""
    installed = setup_python_versions(job)
    if installed is None:
        return
    for step in job.get("steps") or []:
        match = RUN_LINE.match(str(step.get("run", "")).strip())
        session = match.group("session") if match else None
        if not session or session == MATRIX_SESSION:
            continue
        missing = sorted(session_pythons.get(session, set()) - installed)
        if missing:
            yield source.finding(
                f"nox -s {session}",
                f"nox -s {session} runs on Python {', '.join(missing)}, which no setup-python step of job "
                f"{job_name} installs (a hosted runner has only its own python3)",
                job_line,
            )


def step_findings(
    facts: Facts,
    source: Source,
    job_line: int,
    step: Mapping[str, Any],
    *,
    sessions: set[str],
    tasks: set[str],
    uv_version: str | None = None,
    cache_suffix: str = CACHE_SUFFIX_JOB,
) -> Iterator[Finding]:
    uses = step.get("uses")
    if uses:
        line = source.line_of(str(uses), job_line)
        # Pins to a commit SHA and checkout's persist-credentials are zizmor's (unpinned-uses, artipacked),
        # which runs in the same session; the version a pin stands for is ours to ask for.
        if PINNED_USES.match(str(uses)) and not VERSION_COMMENT.search(source.lines[line - 1]):
            yield Finding(source.relative, line, f"action {uses} has no `# vX.Y.Z` comment naming its version")
        with_ = step.get("with") or {}
        version = with_.get("python-version")
        if version is not None:
            yield from python_version_findings(facts, source, line, str(version))
        if str(uses).startswith("astral-sh/setup-uv@"):
            yield from setup_uv_findings(source, line, with_, uv_version, cache_suffix)
        image_ref = with_.get("image-ref")
        if image_ref is not None and "${{" not in str(image_ref):
            yield source.finding(
                "image-ref",
                f"image-ref {image_ref} is written by hand: take it from the build step (`id: build`, "
                '`invoke build-image --output "$GITHUB_OUTPUT"`, image-ref: ${{ steps.build.outputs.image }})',
                line,
            )
    run = step.get("run")
    if run is None:
        return
    command = str(run).strip()
    line = source.line_of(command.splitlines()[0], job_line)
    match = RUN_LINE.match(command)
    if "\n" in command or not match:
        yield Finding(
            source.relative,
            line,
            f"`run: {command.splitlines()[0]}` must be one call: python3 bootstrap.py nox -s SESSION | invoke TASK",
        )
        return
    session, task = match.group("session"), match.group("task")
    if session and session != MATRIX_SESSION and session not in sessions:
        yield Finding(source.relative, line, f"nox session {session!r} does not exist (nox -l)")
    if session == MATRIX_SESSION and "matrix.session" not in str((step.get("env") or {}).get("SESSION", "")):
        yield Finding(source.relative, line, "$SESSION must come from the nox-generated matrix (env SESSION)")
    if task and task not in tasks:
        yield Finding(source.relative, line, f"invoke task {task!r} does not exist (invoke --list)")


def python_version_findings(facts: Facts, source: Source, line: int, version: str) -> Iterator[Finding]:
    """setup-python installs `matrix.python` (nox's matrix), one supported Python, or every one, newest last."""
    supported = list(facts.python_versions)
    listed = [part.strip() for part in version.splitlines() if part.strip()]
    if version.strip() == MATRIX_PYTHON or (len(listed) == 1 and listed[0] in supported):
        return
    if len(listed) == 1:
        message = f"python-version {listed[0]} is not a supported Python ({', '.join(supported)})"
    elif listed != supported:
        message = (
            f"python-version lists {', '.join(listed)}; a list must be every supported Python, the newest last "
            f"(the default): {', '.join(supported)} (requires-python {facts.requires_python} up to max-python)"
        )
    else:
        return
    yield source.finding("python-version", message, line)


def setup_uv_findings(
    source: Source, line: int, with_: Mapping[str, Any], uv_version: str | None, cache_suffix: str
) -> Iterator[Finding]:
    """setup-uv installs the uv that uv.lock pins and keeps one cache per session or job."""
    version = with_.get("version")
    if uv_version and str(version or "") != uv_version:
        yield Finding(
            source.relative,
            line,
            f'setup-uv installs uv {version or "(latest)"}; it must be the uv uv.lock pins: version: "{uv_version}"',
        )
    if with_.get("enable-cache") is not False and str(with_.get("cache-suffix", "")) != cache_suffix:
        yield Finding(
            source.relative,
            line,
            f"setup-uv needs `cache-suffix: {cache_suffix}` (one uv cache per session or job), "
            "or `enable-cache: false`",
        )


def locked_uv_version(root: Path) -> str | None:
    """The uv version uv.lock pins (the uv the sessions and the image use)."""
    try:
        with (root / "uv.lock").open("rb") as handle:
            packages = tomllib.load(handle).get("package", [])
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return next((str(package["version"]) for package in packages if package.get("name") == "uv"), None)


def session_python_map(root: Path) -> dict[str, set[str]]:
    """{session: the Pythons it runs on}, by full name (`mypy-3.12`) and by name (`mypy`: all of them)."""
    pythons: dict[str, set[str]] = {}
    for session in workflows.nox_sessions(root):
        python = session.get("python")
        for key in {str(session["session"]), str(session.get("name") or session["session"])}:
            pythons.setdefault(key, set()).update({str(python)} if python else set())
    return pythons


def dockerfile_findings(facts: Facts, root: Path) -> Iterator[Finding]:
    relative = str(facts.image.dockerfile.relative_to(root))
    source = Source(root, relative)
    checks = {"ARG BASE_IMAGE=": "python-image", "ARG NODE_IMAGE=": "node-image"}
    for prefix, expected in checks.items():
        line = source.line_of(prefix)
        actual = source.lines[line - 1].split("=", 1)[1].strip() if prefix in source.lines[line - 1] else None
        if actual != expected:
            yield Finding(
                relative, line, f"{prefix}{actual} must be {prefix}{expected} (the stage whose FROM line is the fact)"
            )
    stages: set[str] = set()
    for number, text in enumerate(source.lines, start=1):
        parts = text.split()
        if len(parts) < 2 or parts[0].upper() != "FROM" or parts[1].startswith("--"):
            continue
        image, stage = parts[1], (parts[3] if len(parts) >= 4 and parts[2].upper() == "AS" else "")
        if "$" not in image and image not in stages and stage not in IMAGE_STAGES:
            yield Finding(
                relative,
                number,
                f"FROM {image} names an image by hand; name it once in a `FROM image AS <name>-image` line "
                f"({', '.join(IMAGE_STAGES)}) and build FROM that stage or ${{BASE_IMAGE}} / ${{NODE_IMAGE}}",
            )
        stages.add(stage)
    if f" AS {facts.image.target}" not in source.text:
        yield Finding(relative, 1, f"no stage named {facts.image.target} ([tool.pipeline.image].target)")
    for number, text in enumerate(source.lines, start=1):
        if text.startswith("COPY ") and "--from=" not in text:
            for path in text.split()[1:-1]:
                if not path.startswith("--") and not (root / path).exists():
                    yield Finding(relative, number, f"COPY source {path} does not exist")
    yield from dockerfile_settings_findings(source)
    yield from settings_findings(facts, source, by_hand=False)


def dockerfile_settings_findings(source: Source) -> Iterator[Finding]:
    """The image's DJANGO_SETTINGS_MODULE is the build argument invoke passes from the facts, with no default."""
    argument = "ARG DJANGO_SETTINGS_MODULE"
    assignment = "DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE}"
    if not any(line.strip() == argument for line in source.lines):
        yield source.finding(
            "DJANGO_SETTINGS_MODULE", f"the runtime stage needs `{argument}` (no default: invoke passes it)"
        )
    if assignment not in source.text:
        yield source.finding("ENV", f"the runtime stage needs `ENV {assignment}` ({SETTINGS_ROAD})")
    for number, line in enumerate(source.lines, start=1):
        if line.strip().startswith(f"{argument}="):
            yield Finding(source.relative, number, f"`{line.strip()}` has a default: {SETTINGS_ROAD}")


def compose_findings(facts: Facts, root: Path) -> Iterator[Finding]:
    for path in sorted((root / "compose").glob("*.yaml")):
        relative = str(path.relative_to(root))
        source = Source(root, relative)
        data = yaml.safe_load(source.text) or {}
        for name, service in (data.get("services") or {}).items():
            extends = (service.get("extends") or {}).get("file")
            if extends and not (path.parent / extends).is_file():
                yield source.finding(str(extends), f"service {name} extends {extends}, which does not exist")
            image = service.get("image")
            if image and not str(image).startswith("${"):
                yield source.finding(f"image: {image}", f"service {name} names image {image} by hand; use a variable")
            build = service.get("build") or {}
            context = path.parent / str(build.get("context", "."))
            if build and not (context / str(build.get("dockerfile", "Dockerfile"))).is_file():
                yield source.finding("dockerfile:", f"service {name} builds from a Dockerfile that does not exist")
            for volume in service.get("volumes") or []:
                host = str(volume).split(":", 1)[0]
                if host.startswith(".") and not (path.parent / host).exists():
                    yield source.finding(str(volume), f"service {name} mounts {host}, which does not exist")
        yield from settings_findings(facts, source, by_hand=False)


def compose_env_findings(facts: Facts, root: Path) -> Iterator[Finding]:
    """compose/.env, which plain `docker compose -f compose/dev.yaml` reads, is the facts as `nox -s lock` writes it."""
    relative = str(compose_settings.COMPOSE_ENV_FILE)
    fix = "run `nox -s lock`, which writes it from the facts"
    path = root / compose_settings.COMPOSE_ENV_FILE
    if not path.is_file():
        yield Finding(
            relative, 1, f"missing (plain `docker compose -f {compose_settings.DEV_COMPOSE_FILE}` reads it); {fix}"
        )
        return
    source = Source(root, relative)
    found: dict[str, tuple[int, str]] = {}
    for number, line in enumerate(source.lines, start=1):
        key, equals, value = line.partition("=")
        if equals and not key.lstrip().startswith("#"):
            found[key.strip()] = (number, value.strip())
    wrong = False
    for key, expected in compose_settings.compose_env_values(facts).items():
        number, value = found.get(key, (1, ""))
        if value != expected:
            wrong = True
            yield Finding(relative, number, f"{key}={value} is not the facts' {key}={expected}; {fix}")
    if not wrong and source.text != compose_settings.compose_env_text(facts):
        yield Finding(relative, 1, f"differs from what `nox -s lock` writes; {fix}")


def backend_python_findings(facts: Facts, root: Path) -> Iterator[Finding]:
    """No Python file of the backend names a settings module in a string (a default, a test's module, a
    docstring): Django gets it from DJANGO_SETTINGS_MODULE, the tests from the environment nox sets."""
    pattern = settings_pattern(facts)
    for path in sorted(facts.backend_dir.rglob("*.py")):
        relative = str(path.relative_to(root))
        if "/migrations/" in relative or "node_modules" in relative:
            continue
        text = path.read_text(encoding="utf-8")
        try:
            tree = ast.parse(text, filename=relative)
        except SyntaxError as error:
            yield Finding(relative, error.lineno or 1, f"cannot be parsed ({error.msg})")
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for module in pattern.findall(node.value):
                    yield Finding(relative, node.lineno, f"settings module {module} written by hand: {SETTINGS_ROAD}")


def dependabot_findings(facts: Facts, root: Path) -> Iterator[Finding]:
    relative = ".github/dependabot.yml"
    source = Source(root, relative)
    dockerfile_dir = facts.image.dockerfile.parent.relative_to(root)
    major, minor = facts.newest_python.split(".")
    bound = f">= {major}.{int(minor) + 1}"
    for update in (yaml.safe_load(source.text) or {}).get("updates", []):
        directory = str(update.get("directory", "/")).lstrip("/")
        if not (root / directory).is_dir():
            yield source.finding(f"directory: {update.get('directory')}", f"directory {directory} does not exist")
        if update.get("package-ecosystem") == "docker" and Path(directory) == dockerfile_dir:
            ignored = [
                entry.get("versions")
                for entry in update.get("ignore") or []
                if entry.get("dependency-name") == "python"
            ]
            if ignored != [[bound]]:
                yield source.finding(
                    f"directory: {update.get('directory')}",
                    f"docker updates must ignore python versions {bound!r}: the image's Python stays a supported one "
                    f"(max-python {facts.newest_python})",
                )


def lockfile_findings(root: Path) -> Iterator[Finding]:
    for path, group in lockfiles.EXPORTS.items():
        exported = processes.run(lockfiles.export_command(group), cwd=root, env=plain_env()).stdout
        if (root / path).read_text(encoding="utf-8") != exported:
            yield Finding(str(path), 1, "out of date with uv.lock; run `nox -s lock`")


def stale_lock_findings(root: Path) -> Iterator[Finding]:
    """uv.lock must match pyproject.toml (uv decides); every install path refuses it otherwise."""
    if lockfiles.lock_is_stale(root):
        yield Finding("uv.lock", 1, f"out of date with pyproject.toml; {lockfiles.RELOCK_FIX}")


def pre_commit_findings(root: Path, sessions: set[str], tasks: set[str]) -> Iterator[Finding]:
    """Every pre-commit hook is one call of a nox session or invoke task, as in the workflows."""
    relative = ".pre-commit-config.yaml"
    source = Source(root, relative)
    for repo in (yaml.safe_load(source.text) or {}).get("repos", []):
        if repo.get("repo") != "local":
            yield source.finding(str(repo.get("repo")), "hooks must be local (no hook repositories to download)")
        for hook in repo.get("hooks", []):
            entry = str(hook.get("entry", ""))
            match = RUN_LINE.match(entry)
            line = source.line_of(entry)
            if not match:
                yield Finding(relative, line, f"hook {hook.get('id')} must call python3 bootstrap.py nox -s SESSION")
            elif match.group("session") and match.group("session") not in sessions:
                yield Finding(relative, line, f"nox session {match.group('session')!r} does not exist (nox -l)")
            elif match.group("task") and match.group("task") not in tasks:
                yield Finding(relative, line, f"invoke task {match.group('task')!r} does not exist (invoke --list)")


def invoke_tasks(root: Path) -> set[str]:
    listing = processes.run([sys.executable, "-m", "invoke", "--list", "--list-format", "flat"], cwd=root)
    return {line.split()[0] for line in listing.stdout.splitlines()[1:] if line.strip()}


def _condition(value: Any) -> str:
    text = str(value or "").strip()
    return text[3:-2].strip() if text.startswith("${{") and text.endswith("}}") else text


def area_findings(areas: Sequence[Area], source: Source, data: Mapping[str, Any]) -> Iterator[Finding]:
    """ci.yml runs each area's jobs exactly when `invoke changes` says the area changed ([tool.pipeline.areas]),
    and its gate can tell a job skipped by that rule from one that never ran."""
    jobs: Mapping[str, Any] = data.get("jobs") or {}
    producer = changes.PRODUCER_JOB
    if not areas:
        return
    outputs = (jobs.get(producer) or {}).get("outputs") or {}
    gated: dict[str, str] = {}
    for area in areas:
        expected_output = f"${{{{ steps.changes.outputs.{area.name} }}}}"
        if outputs.get(area.name) != expected_output:
            yield source.finding(
                f"  {producer}:",
                f"job {producer} must have the output `{area.name}: {expected_output}` "
                '(the step `id: changes` runs `invoke changes --output "$GITHUB_OUTPUT"`)',
            )
        for job_id in area.jobs:
            gated[job_id] = area.name
            job = jobs.get(job_id)
            if not isinstance(job, Mapping):
                yield source.finding(
                    "jobs:", f"[tool.pipeline.areas] {area.name} names job {job_id}, which ci.yml lacks"
                )
                continue
            needs = job.get("needs")
            needs_list = [needs] if isinstance(needs, str) else list(needs or [])
            if producer not in needs_list:
                yield source.finding(f"  {job_id}:", f"job {job_id} must need {producer} (its area {area.name})")
            if _condition(job.get("if")) != changes.gate_condition(area):
                yield source.finding(
                    f"  {job_id}:", f"job {job_id} must have `if: {changes.gate_condition(area)}` (area {area.name})"
                )
    names = {area.name for area in areas}
    for job_id, job in jobs.items():
        condition = _condition((job or {}).get("if"))
        read = set(re.findall(rf"needs\.{producer}\.outputs\.([\w-]+)", condition)) & names
        for name in sorted(read - ({gated[job_id]} if job_id in gated else set())):
            yield source.finding(
                f"  {job_id}:", f"job {job_id} reads the area {name} but is not among its jobs in [tool.pipeline.areas]"
            )
        steps = (job or {}).get("steps") or []
        if any("invoke all-green" in str(step.get("run", "")) for step in steps):
            needs = set([job["needs"]] if isinstance(job.get("needs"), str) else job.get("needs") or [])
            missing = sorted(({producer} | set(gated)) - needs)
            if missing:
                yield source.finding(
                    f"  {job_id}:", f"the gate {job_id} must also need {', '.join(missing)} (area rules)"
                )


def find_all(root: Path) -> list[Finding]:
    facts = load(root)
    sessions = workflows.all_session_names(root)
    tasks = invoke_tasks(root)
    session_pythons = session_python_map(root)
    uv_version = locked_uv_version(root)
    findings: list[Finding] = []
    for path in workflows.workflow_files(root):
        relative = str(path.relative_to(root))
        source = Source(root, relative)
        findings += workflow_findings(
            facts,
            source,
            workflows.load(path),
            sessions,
            tasks,
            session_pythons=session_pythons,
            uv_version=uv_version,
        )
        findings += settings_findings(facts, source, by_hand=False)
        if relative == CI_WORKFLOW:
            findings += area_findings(facts.areas, source, workflows.load(path))
    findings += dockerfile_findings(facts, root)
    findings += compose_findings(facts, root)
    findings += compose_env_findings(facts, root)
    findings += backend_python_findings(facts, root)
    findings += dependabot_findings(facts, root)
    findings += pre_commit_findings(root, sessions, tasks)
    findings += stale_lock_findings(root)
    findings += lockfile_findings(root)
    for relative in ("pyproject.toml", ".env.example", "README.md"):
        findings += settings_findings(facts, Source(root, relative))
    return sorted({finding if finding.fix else dataclasses.replace(finding, fix=FIX) for finding in findings})
