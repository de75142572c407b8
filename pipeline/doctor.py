"""`invoke doctor`: is this machine ready to run the pipeline? Each line ok or what to do."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table

from pipeline import console, downloads, engine, images, interpreters, lockfiles, processes, runner_programs
from pipeline.errors import INSTALL_DOCKER_FIX, START_DOCKER_FIX, UserError
from pipeline.facts import Facts

MIN_BUILDX = (0, 12)
MIN_FREE_BYTES = 5 * 1024**3
GIB = 1024**3


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    blocking: bool = True

    @property
    def state(self) -> str:
        if self.ok:
            return "ok"
        return "missing" if self.blocking else "warning"


def env_file_keys(path: Path) -> list[str]:
    """Variable names of a .env-style file (KEY=value lines; comments and blanks ignored)."""
    keys = []
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and "=" in stripped:
            keys.append(stripped.split("=", 1)[0].removeprefix("export ").strip())
    return keys


def compare_env(example: Path, actual: Path) -> tuple[list[str], list[str]]:
    """(missing from .env, unknown to .env.example)."""
    documented, present = env_file_keys(example), env_file_keys(actual)
    return [key for key in documented if key not in present], [key for key in present if key not in documented]


def check_pythons(facts: Facts, environ: Mapping[str, str]) -> Check:
    """The same search as the noxfile's: PATH, pyenv's versions, uv's; the same command for what is missing."""
    name = "Python " + ", ".join(facts.python_versions)
    found = {version: interpreters.find(version, environ) for version in facts.python_versions}
    missing = [version for version, hit in found.items() if hit is None]
    where = ", ".join(f"{hit.version} ({hit.where}: {hit.executable})" for hit in found.values() if hit)
    if not missing:
        return Check(name, True, where)
    error = interpreters.missing_error(missing, environ, tried_download=False)
    if interpreters.downloads_allowed(environ):
        detail = f"not found: {', '.join(missing)}; uv will download them when a session needs them"
        fix = f"or install them: `{interpreters.install_command(missing, environ)}`"
        return Check(name, False, detail, fix, blocking=False)
    return Check(name, False, f"not found: {', '.join(missing)} (downloads are off)", error.fix)


def check_tools() -> Check:
    versions = []
    for tool in ("nox", "invoke"):
        versions.append(f"{tool} {importlib.metadata.version(tool)}")
    uv = shutil.which("uv")
    if uv is None:
        return Check("nox, invoke, uv", False, ", ".join(versions) + "; uv not found", "run through bootstrap.py")
    uv_version = processes.run([uv, "--version"]).stdout.strip()
    return Check("nox, invoke, uv", True, ", ".join([*versions, uv_version]))


def check_lock(root: Path) -> Check:
    if shutil.which("uv") is None:
        return Check("uv.lock matches pyproject.toml", False, "uv not found", "run through bootstrap.py")
    if lockfiles.lock_is_stale(root):
        return Check("uv.lock matches pyproject.toml", False, "stale: pyproject.toml changed", lockfiles.RELOCK_FIX)
    return Check("uv.lock matches pyproject.toml", True, "yes (uv lock --check)")


def answer(*args: str, timeout: float = 30) -> str | None:
    """docker's output, or None where it failed or could not answer (no docker command, no answer in time):
    a finding for the report, never a crash."""
    try:
        result = engine.docker(*args, timeout=timeout)
    except UserError:
        return None
    return result.stdout if result.returncode == 0 else None


def check_docker() -> list[Check]:
    try:
        server = engine.require_engine(timeout=30)
    except UserError as error:
        if engine.no_command(error):
            return [Check("Docker daemon", False, "the docker command is not installed", INSTALL_DOCKER_FIX)]
        return [Check("Docker daemon", False, "not reachable", START_DOCKER_FIX)]
    checks = [Check("Docker daemon", True, f"server {server}")]
    version = answer("buildx", "version")
    if version is None:
        checks.append(
            Check("docker buildx", False, "not installed", "install the buildx plugin (Debian: docker-buildx)")
        )
    else:
        found = images.parse_buildx_version(version)
        new_enough = found >= MIN_BUILDX
        checks.append(
            Check(
                "docker buildx",
                new_enough,
                version.split()[1] if version.split() else "?",
                f"upgrade buildx to {'.'.join(map(str, MIN_BUILDX))} or newer",
            )
        )
        try:
            builder = images.current_builder()
            exports = images.builder_can_export_cache(builder)
            checks.append(
                Check(
                    "builder exports cache",
                    exports,
                    f"{builder.name} ({builder.driver} driver)",
                    f"build-image will create and use {images.DEDICATED_BUILDER}; or enable the containerd image store",
                    blocking=False,
                )
            )
            checks.append(
                Check(
                    "builder attests (SBOM, provenance)",
                    images.builder_can_attest(builder),
                    f"{builder.name} ({builder.driver} driver{', containerd' if builder.containerd_store else ''})",
                    images.CONTAINERD_STORE_FIX,
                    blocking=False,
                )
            )
        except UserError as error:
            checks.append(Check("builder exports cache", False, str(error), "check `docker buildx ls`", blocking=False))
    compose = (answer("compose", "version", "--short") or "").strip()
    checks.append(
        Check(
            "docker compose v2",
            compose.startswith(("2", "v2")),
            compose or "not installed",
            "install the compose v2 plugin (Debian: docker-compose)",
        )
    )
    return checks


def image_present(image: str) -> bool:
    try:
        return engine.image_exists(image, timeout=30)
    except UserError:
        return False


def check_images(facts: Facts) -> Check:
    """Base and service images present locally (else they are pulled, which needs a registry)."""
    wanted = [facts.image.base, facts.image.node_image, facts.services.postgres, facts.services.redis]
    absent = [image for image in wanted if not image_present(image)]
    return Check(
        "base and service images",
        not absent,
        "all present locally" if not absent else f"not present, will be pulled: {', '.join(absent)}",
        "pull them, or point POSTGRES_IMAGE / REDIS_IMAGE at images you have",
        blocking=False,
    )


PACKAGE_INDEX = "https://pypi.org/simple/"
HTTPS_PROBE = """
import sys, urllib.request
try:
    urllib.request.urlopen(sys.argv[1], timeout=20).close()
except Exception as error:
    print(f"{type(error).__name__}: {error}")
    sys.exit(1)
"""


def probe_index(image: str, bundle: Path | None = None) -> tuple[bool, str]:
    """HTTPS to the package index from a throw-away container, with its own CAs or with `bundle`:
    (verified?, what the probe or docker said)."""
    args = ["run", "--rm", "--pull", "never", "--network", "bridge"]
    if bundle is not None:
        args += ["--volume", f"{bundle.resolve()}:/tmp/ca.pem:ro", "--env", "SSL_CERT_FILE=/tmp/ca.pem"]
    try:
        result = engine.docker(*args, image, "python", "-c", HTTPS_PROBE, PACKAGE_INDEX, timeout=30)
    except UserError as error:
        return False, str(error)
    return result.returncode == 0, result.stdout + result.stderr


TLS_CHECK = "TLS to the package index in builds"


def index_tls_checks(facts: Facts, environ: Mapping[str, str]) -> list[Check]:
    """The TLS check, where an engine and the base image are there to run it."""
    if not engine.engine_answers(timeout=30):
        return []  # the Docker check above already says what to do
    if not image_present(facts.image.base):
        detail = f"not checked: {facts.image.base} is not present locally"
        return [Check(TLS_CHECK, False, detail, "run invoke doctor again after the first build", blocking=False)]
    return [check_index_tls(facts.image.base, environ)]


def check_index_tls(image: str, environ: Mapping[str, str]) -> Check:
    """Does HTTPS to the package index verify inside a build's base image? If not, which bundle to pass."""
    name = TLS_CHECK
    verified, said = probe_index(image)
    if verified:
        return Check(name, True, f"{PACKAGE_INDEX} verifies with {image}'s own CAs")
    output = said.strip()
    evidence = downloads.tls_failure(output)
    if evidence is None:
        detail = f"{PACKAGE_INDEX} unreachable from a container ({output.splitlines()[-1] if output else 'no output'})"
        return Check(name, False, detail, "check the Docker engine's network and proxy settings", blocking=False)
    given = environ.get(downloads.CA_VARIABLE)
    if given and Path(given).is_file() and probe_index(image, Path(given))[0]:
        return Check(name, True, f"the container's CAs fail ({evidence}); {given} ({downloads.CA_VARIABLE}) verifies")
    bundle = downloads.system_bundle()
    error = downloads.tls_error("HTTPS from a build container", evidence, given or None, bundle)
    if not given and bundle is not None and probe_index(image, bundle)[0]:
        detail = f"{evidence} with the container's own CAs; this machine's {bundle} verifies"
        fix = f"export {downloads.CA_VARIABLE}={bundle} (or pass invoke build-image --ca-bundle {bundle})"
        return Check(name, False, detail, fix)
    return Check(name, False, error.problem, error.fix)


def check_env_file(root: Path) -> list[Check]:
    example, actual = root / ".env.example", root / ".env"
    if not actual.exists():
        return [Check(".env", True, "none (optional; copy .env.example to .env to use one)")]
    missing, unknown = compare_env(example, actual)
    checks = [
        Check(
            ".env variables",
            not missing,
            "all documented variables present" if not missing else f"missing: {', '.join(missing)}",
            f"add {', '.join(missing)} to .env (see .env.example for what each means)",
        )
    ]
    if unknown:
        checks.append(
            Check(
                ".env unknown variables",
                False,
                f"not in .env.example: {', '.join(unknown)}",
                "remove them from .env, or document them in .env.example",
                blocking=False,
            )
        )
    return checks


def check_settings(facts: Facts) -> Check:
    unresolved = [
        module
        for module in facts.settings.as_dict().values()
        if not (facts.backend_dir / (module.replace(".", "/") + ".py")).is_file()
    ]
    if unresolved:
        return Check("settings modules", False, f"no file for {', '.join(unresolved)}", "fix [tool.pipeline.settings]")
    return Check("settings modules", True, ", ".join(facts.settings.as_dict().values()))


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) if folder.exists() else 0


def check_disk(facts: Facts) -> Check:
    free = shutil.disk_usage(facts.root).free
    cache = folder_size(facts.cache.local_dir)
    detail = f"{free / GIB:.1f} GiB free; build cache {cache / GIB:.2f} GiB in {facts.cache.local_dir.name}/"
    return Check(
        "disk for the build cache",
        free >= MIN_FREE_BYTES,
        detail,
        f"free at least {MIN_FREE_BYTES // GIB} GiB (delete {facts.cache.local_dir} to drop the local cache)",
    )


def check_runner_programs(which: Callable[[str], str | None] = shutil.which) -> list[Check]:
    """The programs sessions take from the runner image (`runner_programs`), each with its install command."""
    return [
        Check(
            program.name,
            program.found(which),
            f"for {', '.join(program.sessions)}" if program.found(which) else f"missing: {program.why}",
            program.fix,
            blocking=program.blocking,
        )
        for program in runner_programs.PROGRAMS
    ]


CHECKS: list[Callable[[Facts], list[Check]]] = [
    lambda facts: [check_pythons(facts, os.environ)],
    lambda facts: [check_tools()],
    lambda facts: [check_lock(facts.root)],
    lambda facts: check_runner_programs(),
    lambda facts: check_docker(),
    lambda facts: [check_images(facts)],
    lambda facts: index_tls_checks(facts, os.environ),
    lambda facts: check_env_file(facts.root),
    lambda facts: [check_settings(facts)],
    lambda facts: [check_disk(facts)],
]


def run_checks(facts: Facts) -> list[Check]:
    return [check for produce in CHECKS for check in produce(facts)]


def blocking_failures(checks: list[Check]) -> list[Check]:
    return [check for check in checks if not check.ok and check.blocking]


STATE_STYLES = {"ok": "green", "warning": "yellow", "missing": "bold red"}


def show(checks: Sequence[Check]) -> None:
    """A table in a terminal (a fix column only where a check needs one); off a terminal one line per
    check, `state  name: detail`, its fix on the same line; a markdown table on GitHub."""
    out = console.console()
    needs_fixes = any(not check.ok for check in checks)
    if out.is_terminal:
        table = Table(title="invoke doctor")
        for column in ("check", "state", "detail", *(("fix",) if needs_fixes else ())):
            table.add_column(column, overflow="fold")
        for check in checks:
            state = f"[{STATE_STYLES[check.state]}]{check.state}[/]"
            table.add_row(
                check.name, state, check.detail, *((check.fix if not check.ok else "",) if needs_fixes else ())
            )
        out.print(table)
    else:
        out.print("invoke doctor", markup=False)
        for check in checks:
            fix = f" -> fix: {check.fix}" if not check.ok and check.fix else ""
            out.print(f"  {check.state:<8} {check.name}: {check.detail}{fix}", markup=False, soft_wrap=True)
    rows = [[check.name, check.state, check.detail, "" if check.ok else check.fix] for check in checks]
    console.step_summary("### invoke doctor\n\n" + console.markdown_table(["check", "state", "detail", "fix"], rows))


def verdict(checks: Sequence[Check]) -> str:
    """The last line: ready, ready but for what the warnings name, or one paragraph of what blocks."""
    blocking = blocking_failures(list(checks))
    if blocking:
        raise UserError(
            f"{len(blocking)} blocking problem(s): " + "; ".join(f"{check.name}: {check.detail}" for check in blocking),
            "; ".join(check.fix for check in blocking),
        )
    warnings = [check.name for check in checks if not check.ok]
    if warnings:
        return f"this machine can run the pipeline, but for what needs {', '.join(warnings)}"
    return "this machine can run the whole pipeline"
