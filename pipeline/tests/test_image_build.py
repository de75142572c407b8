"""Real builds on the real engine: caching, size bound, user, contents.

Each test module builds its own uniquely named image from a copy of the
project, with its own local cache folder, and removes that image afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path

import pytest

from pipeline import engine, images
from pipeline.conftest import BuiltProject, docker

pytestmark = pytest.mark.usefixtures("docker_engine")
DEPENDENCY_STEP = "builder: RUN --mount=type=secret"
VENV_COPY_STEP = "runtime: COPY --from=builder /opt/venv /opt/venv"


def step(report: dict[str, bool], prefix: str) -> bool:
    matches = [cached for name, cached in report.items() if name.startswith(prefix)]
    assert len(matches) == 1, (prefix, report)
    return matches[0]


@pytest.fixture(scope="module")
def project(built_project: BuiltProject) -> BuiltProject:
    return built_project


def test_cold_build_succeeds_without_error_lines(project: BuiltProject) -> None:
    assert project.cold.cache_backend == "local"
    lines = project.cold.output.splitlines()
    assert not [line for line in lines if "ERROR" in line], "a build with no cache yet must print no ERROR"
    assert not [line for line in lines if "importing cache" in line.lower() and "WARN" in line]
    assert (project.cache_root / "backend-runtime" / "index.json").exists()


def test_image_runs_as_a_non_root_user(project: BuiltProject) -> None:
    tag = project.cold.tags[0]
    assert docker("image", "inspect", "--format", "{{.Config.User}}", tag).stdout.strip() == "10001:10001"
    assert docker("run", "--rm", "--entrypoint", "id", tag, "-u").stdout.strip() == "10001"


def test_image_has_no_dev_packages(project: BuiltProject) -> None:
    probe = (
        "import importlib.util as u; "
        "print(sorted(m for m in ('debug_toolbar', 'dotenv', 'pytest', 'ruff', 'mypy', 'pip_audit', 'nox') "
        "if u.find_spec(m)))"
    )
    result = docker("run", "--rm", "--entrypoint", "python", project.cold.tags[0], "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_image_ships_the_compiled_css_but_no_node_modules(project: BuiltProject) -> None:
    script = (
        "ls /app/staticfiles | grep -E '^app[.][0-9a-f]{12}[.]css$'; find / -name node_modules -not -path '/proc/*'"
    )
    result = docker("run", "--rm", "--entrypoint", "sh", project.cold.tags[0], "-c", script)
    lines = result.stdout.split()
    assert len(lines) == 1, result.stdout  # the hashed stylesheet, and no node_modules anywhere
    assert lines[0].startswith("app.")


# Run inside an image: what it holds that no image may. argv[1]: the sha256 of the build's secrets.
LEAK_SCAN = """
import hashlib, json, os, sys
secrets = json.loads(sys.argv[1])
sizes = {size for size, _ in secrets.values()}
found = []
for folder, dirs, files in os.walk("/"):
    if folder == "/":
        dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev")]
    for name in files:
        path = os.path.join(folder, name)
        if not os.path.isfile(path) or os.path.islink(path):
            continue
        if name == ".env" or (name.startswith(".env.") and name != ".env.example"):
            found.append(f"{path}: an environment file")
        if folder == "/run/secrets" or folder.startswith("/run/secrets/"):
            found.append(f"{path}: a build secret mount")
        size = os.path.getsize(path)
        if size in sizes:
            digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
            found += [f"{path}: the build secret {label}" for label, (_, hash_) in secrets.items() if hash_ == digest]
        if folder.startswith(("/app", "/root", "/home", "/tmp")) and size < 1_000_000:
            if b"PRIVATE KEY-----" in open(path, "rb").read():
                found.append(f"{path}: a private key")
print(json.dumps(sorted(found)))
"""


def leaks(image: str, secrets: list[Path]) -> list[str]:
    """What the image holds that no image may: environment files anywhere, a private key in the app's or a
    user's folders, a copy of a build secret anywhere, anything left in /run/secrets."""
    hashes = {path.name: (path.stat().st_size, hashlib.sha256(path.read_bytes()).hexdigest()) for path in secrets}
    scan = ["run", "--rm", "--user", "0", "--entrypoint", "python", image, "-c", LEAK_SCAN, json.dumps(hashes)]
    result = docker(*scan)
    assert result.returncode == 0, result.stderr
    found: list[str] = json.loads(result.stdout)
    return found


def test_image_holds_no_env_file_key_or_build_secret(project: BuiltProject) -> None:
    """The build context had a `.env` and a private key where the Dockerfile copies whole folders, and the
    build had a CA bundle secret (where this machine needs one): none of them is in the image."""
    assert all((project.root / relative).is_file() for relative in project.planted)
    assert leaks(project.cold.tags[0], project.secrets) == []


@pytest.mark.cost(5)
def test_the_leak_check_finds_what_a_careless_dockerfile_copies(project: BuiltProject, tmp_path: Path) -> None:
    """The same `.env` and key in a context without the project's .dockerignore, copied whole, and the build
    secret copied into a layer: the check above names each one."""
    context = tmp_path / "context"
    for relative, text in project.planted.items():
        (context / relative).parent.mkdir(parents=True, exist_ok=True)
        (context / relative).write_text(text)
    secret = tmp_path / "ca.pem"
    secret.write_text(f"-----BEGIN CERTIFICATE-----\n{uuid.uuid4().hex}\n-----END CERTIFICATE-----\n")
    careless = f"{project.name}-careless:{uuid.uuid4().hex[:8]}"
    dockerfile = (
        f"FROM {project.cold.tags[0]}\nUSER 0\nCOPY backend/ /app/\n"
        "RUN --mount=type=secret,id=ca cp /run/secrets/ca /app/ca.pem\n"
    )
    # --no-cache: a secret's content is not part of BuildKit's cache key, so a cached `cp` would hold an
    # earlier run's secret.
    built = docker("build", "--quiet", "--no-cache", "--secret", f"id=ca,src={secret}", "--tag", careless, "-f", "-",
                   str(context), stdin=dockerfile)  # fmt: skip
    assert built.returncode == 0, built.stderr
    try:
        assert leaks(careless, [secret]) == [
            "/app/ca.pem: the build secret ca.pem",
            "/app/config/.env: an environment file",
            "/app/ops/deploy-key.pem: a private key",
        ]
    finally:
        docker("image", "rm", "--force", careless)


def test_unknown_startup_checks_mode_is_refused(project: BuiltProject) -> None:
    result = docker("run", "--rm", "-e", "STARTUP_CHECKS=sometimes", project.cold.tags[0], "true")
    assert result.returncode == 64
    assert "unknown STARTUP_CHECKS='sometimes'" in result.stderr


@pytest.mark.cost(7)
def test_code_only_change_reuses_every_dependency_layer(project: BuiltProject) -> None:
    views = project.root / "backend" / "catalog" / "views.py"
    views.write_text(views.read_text() + f"\n# a code-only change {uuid.uuid4().hex}\n")
    report = images.cache_report(project.build().output)
    assert step(report, DEPENDENCY_STEP) is True
    assert step(report, VENV_COPY_STEP) is True
    assert step(report, "runtime: COPY backend/catalog") is False


def referenced_blobs(folder: Path) -> set[str]:
    """Every blob the OCI layout's index.json reaches: cache indexes, manifests, configs and layers."""
    reached: set[str] = set()

    def walk(descriptor: dict[str, object]) -> None:
        digest = str(descriptor["digest"])
        reached.add(digest)
        if "index" in str(descriptor.get("mediaType")) or "manifest" in str(descriptor.get("mediaType")):
            document = json.loads((folder / "blobs" / digest.replace(":", "/")).read_text())
            for child in [*document.get("manifests", []), *document.get("layers", [])]:
                walk(child)
            if "config" in document:
                walk(document["config"])

    for descriptor in json.loads((folder / "index.json").read_text())["manifests"]:
        walk(descriptor)
    return reached


@pytest.mark.cost(8)
def test_cache_folder_keeps_only_the_latest_build(project: BuiltProject) -> None:
    """buildx's local exporter adds blobs to a folder and never removes any; after a code change the folder
    must hold only what the latest build references, or it grows with every build."""
    views = project.root / "backend" / "catalog" / "views.py"
    views.write_text(views.read_text() + f"\n# a change that makes new layers {uuid.uuid4().hex}\n")
    project.build()
    folder = project.cache_root / "backend-runtime"
    stored = {f"sha256:{blob.name}" for blob in (folder / "blobs" / "sha256").iterdir()}
    assert stored - referenced_blobs(folder) == set()
    assert not (project.cache_root / "backend-runtime.new").exists()


@pytest.mark.skipif(
    not (os.environ.get("CI") or os.environ.get("PIPELINE_ALLOW_PRUNE")),
    reason="runs `docker buildx prune -af`, which empties this engine's whole build cache; "
    "it runs on CI, or locally with PIPELINE_ALLOW_PRUNE=1",
)
def test_rebuild_after_prune_comes_from_the_local_cache(project: BuiltProject) -> None:
    with engine.exclusive_builds():  # never under another build of this engine (the image job beside us)
        assert docker("buildx", "prune", "--all", "--force").returncode == 0
    report = images.cache_report(project.build().output)
    assert step(report, DEPENDENCY_STEP) is True
