"""The image's SBOM and provenance: the generator (pipeline/sbom_generator.py) on real filesystems, BuildKit
attaching what it writes to a real build, and both checked against uv.lock, the independent source."""

from __future__ import annotations

import json
import os
import platform
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import engine, images, processes, sbom
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


@pytest.fixture(scope="module")
def attested_image() -> Iterator[str]:
    """The runtime image built as `invoke build-image` builds it, plus BuildKit's SBOM by the repository's
    generator stage and `mode=max` provenance."""
    engine.require_engine()
    suffix = uuid.uuid4().hex[:8]
    generator, image = f"backend-sbom-generator:test-{suffix}", f"backend-attested:test-{suffix}"
    bundle = images.ca_bundle_path(None, os.environ)
    try:
        for target, tag, attestations in (
            (sbom.GENERATOR_TARGET, generator, ()),
            (FACTS.image.target, image, sbom.attestation_flags(generator)),
        ):
            command = images.buildx_command(
                images.BuildRequest(
                    context=ROOT,
                    dockerfile=FACTS.image.dockerfile,
                    target=target,
                    tags=(tag,),
                    build_args=images.image_build_args(FACTS),
                    ca_bundle=bundle,
                    progress="plain",
                    attestations=attestations,
                )
            )
            built = engine.stream(*command[1:])
            assert built.returncode == 0, built.stdout[-3000:]
        yield image
    finally:
        engine.docker("image", "rm", "--force", image, generator)


@pytest.mark.engine
@pytest.mark.cost(60)
def test_a_real_build_carries_an_sbom_true_to_uv_lock_and_a_full_provenance(attested_image: str) -> None:
    attestations = sbom.read_attestations(attested_image)
    assert attestations.sbom.get("spdxVersion") == "SPDX-2.3"
    python = engine.docker(
        "run",
        "--rm",
        "--entrypoint",
        "python",
        attested_image,
        "-c",
        "import platform; print(platform.python_version())",
    ).stdout.strip()
    locked = sbom.locked_packages(ROOT, production=True, python=python)
    every_group = sbom.locked_packages(ROOT, production=False, python=python)
    base = sbom.base_image_packages(FACTS.image.base_for(FACTS.image.python))
    assert sbom.problems_against_lock(attestations.sbom, locked, every_group, base) == []
    assert sbom.sbom_packages(attestations.sbom, "deb"), "the Debian packages of the base image are listed too"
    assert sbom.provenance_problems(attestations.provenance) == []
    materials = [material["uri"] for material in attestations.provenance["materials"]]
    assert any(uri.startswith("pkg:docker/") for uri in materials), materials
