"""The image's SBOM and provenance attestations, read back from the engine and checked against uv.lock.

BuildKit attaches them to the image's index (an attestation manifest whose layers are in-toto statements);
`docker save` of an image in the containerd store writes that index whole, so they are read from it without
a registry. uv.lock is the independent source: the SBOM must list every production package of the lock
(for the image's platform and Python) at its locked version, and no package only a development group
brings in.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.markers import default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from pipeline import engine, processes
from pipeline.errors import UserError

SPDX = "https://spdx.dev/Document"
SLSA_PROVENANCE = "https://slsa.dev/provenance/v0.2"
GENERATOR_TARGET = "sbom-generator"


@dataclass(frozen=True)
class Attestations:
    """The in-toto statements attached to an image, by predicate type."""

    statements: Mapping[str, Mapping[str, Any]]

    def predicate(self, predicate_type: str) -> Mapping[str, Any]:
        predicate = self.statements.get(predicate_type, {}).get("predicate", {})
        return predicate if isinstance(predicate, Mapping) else {}

    @property
    def sbom(self) -> Mapping[str, Any]:
        return self.predicate(SPDX)

    @property
    def provenance(self) -> Mapping[str, Any]:
        return self.predicate(SLSA_PROVENANCE)


def attestation_flags(generator: str) -> tuple[str, ...]:
    """`--attest` values of a build: the SBOM by our generator image, the provenance with everything."""
    return (f"type=sbom,generator={generator}", "type=provenance,mode=max")


def read_attestations(image: str) -> Attestations:
    """The image's attestations, from `docker save` (the containerd store keeps them)."""
    with tempfile.TemporaryDirectory(prefix="attestations-") as folder:
        archive = Path(folder) / "image.tar"
        saved = engine.docker("save", "--output", str(archive), image, timeout=600)
        if saved.returncode != 0:
            raise UserError(f"`docker save {image}` failed: {saved.stderr.strip()}", "build the image first")
        with tarfile.open(archive) as tar:
            return Attestations(statements_in(tar))


def statements_in(tar: tarfile.TarFile) -> dict[str, Mapping[str, Any]]:
    def blob(digest: str) -> Any:
        algorithm, _, value = digest.partition(":")
        member = tar.extractfile(f"blobs/{algorithm}/{value}")
        return json.loads(member.read()) if member else {}

    found: dict[str, Mapping[str, Any]] = {}
    pending = [entry["digest"] for entry in json.loads(tar.extractfile("index.json").read())["manifests"]]  # type: ignore[union-attr]
    while pending:
        document = blob(pending.pop())
        pending += [entry["digest"] for entry in document.get("manifests", [])]
        for layer in document.get("layers", []):
            if layer.get("mediaType") == "application/vnd.in-toto+json":
                statement = blob(layer["digest"])
                found[statement.get("predicateType", "")] = statement
    return found


def locked_packages(root: Path, *, production: bool, python: str) -> dict[str, str]:
    """name -> version of uv.lock's packages for Linux and Python `python` (a full version: markers compare
    patch levels): the production ones (what the image's `uv sync --no-default-groups` installs) or those of
    every group."""
    groups = ["--no-default-groups"] if production else ["--all-groups"]
    command = ["uv", "export", "--locked", "--quiet", "--no-emit-project", "--no-hashes", "--no-header"]
    exported = processes.run([*command, "--no-annotate", "--format", "requirements-txt", *groups], cwd=root)
    if exported.returncode != 0:
        raise UserError(f"uv could not export uv.lock: {exported.stderr.strip()}", "run `nox -s lock`")
    environment: dict[str, str] = {
        **{key: str(value) for key, value in default_environment().items()},
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "python_version": ".".join(python.split(".")[:2]),
        "python_full_version": python,
    }
    packages: dict[str, str] = {}
    for line in exported.stdout.splitlines():
        try:
            requirement = Requirement(line.strip())
        except InvalidRequirement:
            continue  # blank lines, comments, options
        if requirement.marker and not requirement.marker.evaluate(environment):
            continue
        pinned = [spec.version for spec in requirement.specifier if spec.operator == "=="]
        if pinned:
            packages[canonicalize_name(requirement.name)] = pinned[0]
    return packages


def sbom_packages(sbom: Mapping[str, Any], ecosystem: str = "pypi") -> dict[str, set[str]]:
    """name -> versions of the SBOM's packages whose purl is `pkg:<ecosystem>/...`."""
    found: dict[str, set[str]] = {}
    for package in sbom.get("packages", []):
        for reference in package.get("externalRefs", []):
            locator = str(reference.get("referenceLocator", ""))
            if reference.get("referenceType") == "purl" and locator.startswith(f"pkg:{ecosystem}/"):
                name, _, version = locator.removeprefix(f"pkg:{ecosystem}/").partition("@")
                found.setdefault(canonicalize_name(name), set()).add(version.partition("?")[0])
    return found


def problems_against_lock(
    sbom: Mapping[str, Any],
    production: Mapping[str, str],
    every_group: Mapping[str, str],
    base_image_packages: Mapping[str, str] | None = None,
) -> list[str]:
    """What the SBOM gets wrong against the lock: a production package missing or at another version, or a
    package only a development group brings in (unless the base image itself carries it at that version:
    the Python image's own pip is the base's, not the lock's)."""
    listed = sbom_packages(sbom)
    base: dict[str, str] = {canonicalize_name(name): version for name, version in (base_image_packages or {}).items()}
    problems = [
        f"{name} {version} (locked for production) is not in the SBOM"
        if name not in listed
        else f"{name} is {', '.join(sorted(listed[name]))} in the SBOM, {version} in uv.lock"
        for name, version in sorted(production.items())
        if version not in listed.get(name, set())
    ]
    dev_only = sorted(set(every_group) - set(production))
    problems += [
        f"{name} (a development package) is in the SBOM"
        for name in dev_only
        if name in listed and listed[name] != {base.get(name)}
    ]
    return problems


def base_image_packages(base_image: str) -> dict[str, str]:
    """name -> version of the Python distributions the base image itself carries (its pip)."""
    listed = engine.docker("run", "--rm", "--entrypoint", "python", base_image, "-m", "pip", "list", "--format", "json")
    if listed.returncode != 0:
        raise UserError(f"Cannot list the packages of {base_image}: {listed.stderr.strip()}", "pull the base image")
    return {canonicalize_name(item["name"]): item["version"] for item in json.loads(listed.stdout)}


def image_python(image: str) -> str:
    """The full Python version inside the image (uv.lock's markers compare patch levels)."""
    ran = engine.docker(
        "run", "--rm", "--entrypoint", "python", image, "-c", "import platform; print(platform.python_version())"
    )
    if ran.returncode != 0:
        raise UserError(f"Cannot run Python in {image}: {ran.stderr.strip()}", "build the image again")
    return ran.stdout.strip()


@dataclass(frozen=True)
class Checked:
    """A build's attestations, checked against uv.lock and written where a person (or actions/attest) reads them."""

    image: str
    sbom_file: Path
    provenance_file: Path
    python_packages: int
    debian_packages: int
    production_packages: int
    materials: int

    def rows(self) -> list[list[str]]:
        return [
            [
                "SBOM",
                f"{self.python_packages} Python and {self.debian_packages} Debian packages; all "
                f"{self.production_packages} production packages of uv.lock at their locked versions, "
                "no development one",
            ],
            ["SBOM file", str(self.sbom_file)],
            ["provenance", f"SLSA, mode=max: {self.materials} materials, every build step"],
            ["provenance file", str(self.provenance_file)],
            ["attached to", f"{self.image} (the image's index; after a push, the registry's)"],
        ]


def check_image(image: str, root: Path, base_image: str, folder: Path) -> Checked:
    """Read `image`'s attestations, write them to `folder`, and check them: the SBOM against uv.lock, the
    provenance for mode=max. Every problem is named in one UserError (a gate: it fails closed)."""
    attestations = read_attestations(image)
    folder.mkdir(parents=True, exist_ok=True)
    sbom_file, provenance_file = folder / "sbom.spdx.json", folder / "provenance.json"
    sbom_file.write_text(json.dumps(attestations.sbom, indent=2) + "\n", encoding="utf-8")
    provenance_file.write_text(json.dumps(attestations.provenance, indent=2) + "\n", encoding="utf-8")
    if not attestations.sbom or not attestations.provenance:
        missing = " and ".join(
            name for name, found in (("SBOM", attestations.sbom), ("provenance", attestations.provenance)) if not found
        )
        raise UserError(
            f"The image {image} carries no {missing} attestation",
            "build with invoke build-image on an engine with the containerd image store (it attests by default)",
        )
    python = image_python(image)
    production = locked_packages(root, production=True, python=python)
    problems = problems_against_lock(
        attestations.sbom,
        production,
        locked_packages(root, production=False, python=python),
        base_image_packages(base_image),
    )
    problems += [f"provenance: {problem}" for problem in provenance_problems(attestations.provenance)]
    if problems:
        raise UserError(
            f"The attestations of {image} do not match uv.lock: {'; '.join(problems)} (written to {folder})",
            "make the image install exactly uv.lock's production packages (uv sync --locked --no-default-groups) "
            "and rebuild; a development package in the image means a dependency group leaked into it",
        )
    return Checked(
        image=image,
        sbom_file=sbom_file,
        provenance_file=provenance_file,
        python_packages=sum(len(versions) for versions in sbom_packages(attestations.sbom).values()),
        debian_packages=sum(len(versions) for versions in sbom_packages(attestations.sbom, "deb").values()),
        production_packages=len(production),
        materials=len(attestations.provenance.get("materials", [])),
    )


def provenance_problems(provenance: Mapping[str, Any]) -> list[str]:
    """What a `mode=max` SLSA provenance of a BuildKit build must hold and does not."""
    problems = []
    if provenance.get("buildType") != "https://mobyproject.org/buildkit@v1":
        problems.append(f"buildType is {provenance.get('buildType')!r}, not BuildKit's")
    if not provenance.get("materials"):
        problems.append("no materials (the base images and sources the build used)")
    if not provenance.get("buildConfig"):
        problems.append("no buildConfig (the build's steps: mode=max records them)")
    if not provenance.get("invocation", {}).get("parameters"):
        problems.append("no invocation parameters")
    return problems
