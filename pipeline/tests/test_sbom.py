"""The image's SBOM and provenance: the generator (pipeline/sbom_generator.py) on real filesystems, BuildKit
attaching what it writes to a real build, and both checked against uv.lock, the independent source."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import socket
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from pipeline import engine, images, processes, sbom
from pipeline.conftest import BuiltProject, build_copy
from pipeline.errors import UserError
from pipeline.facts import ROOT, load

FACTS = load()
GENERATOR = ROOT / "pipeline" / "sbom_generator.py"


def spdx(*purls: str) -> dict[str, object]:
    return {"packages": [{"externalRefs": [{"referenceType": "purl", "referenceLocator": purl}]} for purl in purls]}


def test_the_sbom_must_list_every_production_package_at_its_locked_version_and_no_dev_package() -> None:
    production = {"django": "5.2.1", "redis": "6.0.0"}
    every_group = {**production, "pytest": "8.3.0"}
    assert (
        sbom.problems_against_lock(spdx("pkg:pypi/Django@5.2.1", "pkg:pypi/redis@6.0.0"), production, every_group) == []
    )
    assert sbom.problems_against_lock(
        spdx("pkg:pypi/django@5.2.0", "pkg:pypi/pytest@8.3.0"), production, every_group
    ) == [
        "django is 5.2.0 in the SBOM, 5.2.1 in uv.lock",
        "redis 6.0.0 (locked for production) is not in the SBOM",
        "pytest (a development package) is in the SBOM",
    ]
    base_pytest = {"pytest": "8.3.0"}  # a package the base image carries is the base's, at its own version only
    assert sbom.problems_against_lock(spdx("pkg:pypi/pytest@8.3.0"), {}, every_group, base_pytest) == []
    assert sbom.problems_against_lock(spdx("pkg:pypi/pytest@8.4.0"), {}, every_group, base_pytest) == [
        "pytest (a development package) is in the SBOM"
    ]


def test_a_provenance_without_the_builds_steps_is_named() -> None:
    assert sbom.provenance_problems({"buildType": "https://mobyproject.org/buildkit@v1"}) == [
        "no materials (the base images and sources the build used)",
        "no buildConfig (the build's steps: mode=max records them)",
        "no invocation parameters",
    ]


def uv_sync(target: Path, *args: str) -> None:
    environment = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(target)}
    synced = processes.run(
        ["uv", "sync", "--locked", "--quiet", "--no-install-project", *args], cwd=ROOT, env=environment
    )
    assert synced.returncode == 0, synced.stderr


@pytest.mark.tools
@pytest.mark.cost(20)
def test_the_generator_lists_a_real_production_environment_as_uv_lock_has_it(tmp_path: Path) -> None:
    """The generator, run as BuildKit runs it, on an environment uv installed from the lock's production
    dependencies: its SBOM passes the check against the lock, and a dev package added later is caught."""
    python = platform.python_version()
    production, tool = tmp_path / "production", tmp_path / "generator"
    uv_sync(production, "--no-default-groups", "--python", sys.executable)
    uv_sync(tool, "--only-group", "sbom", "--python", sys.executable)
    out = tmp_path / "out"
    out.mkdir()
    environment = {
        "BUILDKIT_SCAN_SOURCE": str(production),
        "BUILDKIT_SCAN_DESTINATION": str(out),
        "PATH": os.environ["PATH"],
    }
    ran = processes.run([str(tool / "bin" / "python"), str(GENERATOR)], env=environment)
    assert ran.returncode == 0, ran.stderr
    statement = json.loads((out / "production.spdx.json").read_text())
    assert statement["predicateType"] == sbom.SPDX
    locked = sbom.locked_packages(ROOT, production=True, python=python)
    every_group = sbom.locked_packages(ROOT, production=False, python=python)
    assert sbom.problems_against_lock(statement["predicate"], locked, every_group) == []
    assert set(sbom.sbom_packages(statement["predicate"])) >= set(locked)


@pytest.mark.engine
@pytest.mark.cost(20)
def test_build_image_attests_an_sbom_true_to_uv_lock_and_a_full_provenance(built_project: BuiltProject) -> None:
    """The session's cold `invoke build-image` (images.build) made both attestations and checked them; read
    back from the engine here, they hold what the lock and the build say."""
    checked = built_project.cold.attestations
    assert checked is not None, built_project.cold.notes
    image = built_project.cold.tags[0]
    attestations = sbom.read_attestations(image)
    assert json.loads(checked.sbom_file.read_text()) == attestations.sbom
    assert json.loads(checked.provenance_file.read_text()) == attestations.provenance
    assert attestations.sbom.get("spdxVersion") == "SPDX-2.3"
    python = sbom.image_python(image)
    locked = sbom.locked_packages(built_project.root, production=True, python=python)
    every_group = sbom.locked_packages(built_project.root, production=False, python=python)
    base = sbom.base_image_packages(FACTS.image.base_for(FACTS.image.python))
    assert sbom.problems_against_lock(attestations.sbom, locked, every_group, base) == []
    assert checked.production_packages == len(locked) > 5
    assert sbom.sbom_packages(attestations.sbom, "deb"), "the Debian packages of the base image are listed too"
    assert sbom.provenance_problems(attestations.provenance) == []
    materials = [material["uri"] for material in attestations.provenance["materials"]]
    assert any(uri.startswith("pkg:docker/") for uri in materials), materials
    parameters = attestations.provenance["invocation"]["parameters"]
    assert parameters.get("args", {}).get("build-arg:PYTHON_VERSION") == FACTS.image.python, parameters


@pytest.mark.engine
@pytest.mark.cost(15)
def test_the_check_fails_closed_on_an_image_the_lock_disagrees_with_or_without_attestations(
    built_project: BuiltProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lock that says Django 5.2.0 against the image's real SBOM, and an image built with --no-attest, are
    refused, each naming what is wrong."""
    for name in ("pyproject.toml", "uv.lock"):
        (tmp_path / name).write_text((built_project.root / name).read_text())
    lock = tmp_path / "uv.lock"
    lock.write_text(re.sub(r'(name = "django"\nversion = )"[^"]+"', r'\1"5.2.0"', lock.read_text(), count=1))
    monkeypatch.setenv("UV_SKIP_WHEEL_FILENAME_CHECK", "1")  # the wheel names still say the real version
    base = FACTS.image.base_for(FACTS.image.python)
    with pytest.raises(UserError, match=r"django is [\d.]+ in the SBOM, 5\.2\.0 in uv\.lock"):
        sbom.check_image(built_project.cold.tags[0], tmp_path, base, tmp_path / "documents")
    assert (tmp_path / "documents" / "sbom.spdx.json").is_file(), "the documents are kept to look at"
    plain = f"{built_project.name}-plain"
    try:
        unattested = build_copy(
            built_project.root, built_project.cache_root, plain, built_project.secrets, attest=False
        )
        assert unattested.attestations is None
        with pytest.raises(UserError, match="carries no SBOM"):
            sbom.check_image(unattested.tags[0], built_project.root, base, tmp_path / "plain")
    finally:
        images.remove_local_images(plain)


# Where Debian's docker-registry is not installed (GitHub's runner): the same registry, as Docker's image of it.
REGISTRY_IMAGE = "registry:3"


def wait_for_registry(address: str, log: Callable[[], str]) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://{address}/v2/", timeout=2).close()  # nosec B310
            return
        except OSError:
            assert time.monotonic() < deadline, log()
            time.sleep(0.2)


@pytest.fixture
def local_registry(docker_engine: None, tmp_path: Path) -> Iterator[str]:
    """A real OCI registry (Docker Distribution) on 127.0.0.1, for as long as the test: Debian's docker-registry
    where it is installed, else Docker's registry image; skipped where neither can start or the engine is not on
    this machine (it must reach 127.0.0.1), a failure on CI."""

    def unavailable(reason: str) -> NoReturn:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the registry test, but {reason}")
        pytest.skip(reason)

    if os.environ.get("DOCKER_HOST", "unix://").partition("://")[0] != "unix":
        unavailable("the engine is not on this machine, so it cannot reach a registry on 127.0.0.1")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    binary = shutil.which("docker-registry")
    if binary is None:
        started = engine.docker("run", "--detach", "--rm", "--publish", f"{address}:5000", REGISTRY_IMAGE, timeout=300)
        if started.returncode != 0:
            unavailable(f"no docker-registry on PATH and {REGISTRY_IMAGE} does not start: {started.stderr.strip()}")
        container = started.stdout.strip()
        try:
            wait_for_registry(address, lambda: engine.docker("logs", container).stderr)
            yield address
        finally:
            engine.docker("rm", "--force", container)
        return
    config = tmp_path / "registry.yml"
    config.write_text(
        f"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {tmp_path / 'data'}\nhttp:\n  addr: {address}\n"
    )
    with (tmp_path / "registry.log").open("w") as log:
        registry = processes.start([binary, "serve", str(config)], log=log)
    try:
        wait_for_registry(address, (tmp_path / "registry.log").read_text)
        yield address
    finally:
        processes.stop_group(registry)


def registry_json(url: str, accept: str) -> tuple[bytes, dict[str, object]]:
    request = urllib.request.Request(url, headers={"Accept": accept})  # noqa: S310  # the test registry's http:// URL
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310  # nosec B310
        body: bytes = response.read()
    return body, json.loads(body)


@pytest.mark.engine
@pytest.mark.cost(25)
def test_an_attested_push_puts_the_checked_index_and_its_attestations_in_a_real_registry(
    built_project: BuiltProject, local_registry: str
) -> None:
    """`invoke build-image --push` (images.build) to a real registry: the registry holds exactly the checked
    index, with its attestation manifest, whose SBOM is the document the check wrote."""
    registry = f"{local_registry}/team"
    try:
        result = images.build(
            load(built_project.root),
            cache="local",
            image_name=built_project.name,
            registry=registry,
            push=True,
            load=False,
            context=built_project.root,
            cache_root=built_project.cache_root,
            ca_bundle=str(built_project.secrets[0]) if built_project.secrets else None,
            say=lambda _: None,
            env={key: value for key, value in os.environ.items() if not key.startswith(("GITHUB_", "ACTIONS_"))},
        )
    finally:
        images.remove_local_images(f"{registry}/{built_project.name}")
    assert result.attestations is not None
    written = dict(line.split("=", 1) for line in images.output_lines(result, pushed=True))
    repository = f"http://{local_registry}/v2/team/{built_project.name}"
    body, index = registry_json(
        f"{repository}/manifests/{written['digest']}", "application/vnd.oci.image.index.v1+json"
    )
    assert "sha256:" + hashlib.sha256(body).hexdigest() == written["digest"]
    manifests = index["manifests"]
    assert isinstance(manifests, list)
    attestation = next(m for m in manifests if m.get("annotations", {}).get("vnd.docker.reference.type"))
    _, manifest = registry_json(
        f"{repository}/manifests/{attestation['digest']}", "application/vnd.oci.image.manifest.v1+json"
    )
    layers = manifest["layers"]
    assert isinstance(layers, list)
    predicates = {}
    for layer in layers:
        _, statement = registry_json(f"{repository}/blobs/{layer['digest']}", "application/vnd.in-toto+json")
        predicates[statement["predicateType"]] = statement["predicate"]
    assert set(predicates) == {sbom.SPDX, sbom.SLSA_PROVENANCE}
    assert predicates[sbom.SPDX] == json.loads(Path(written["sbom"]).read_text())
