"""The image's SBOM generator: BuildKit's SBOM scanner protocol, with the SPDX library (spdx-tools).

BuildKit runs it (backend/Dockerfile's `sbom-generator` stage, named by `invoke build-image` as
`--attest type=sbom,generator=IMAGE`) with the built image's root filesystem mounted read-only at
$BUILDKIT_SCAN_SOURCE, other filesystems to scan in $BUILDKIT_SCAN_SOURCE_EXTRAS, and writes one SPDX 2.3
document per filesystem, wrapped in an in-toto statement, to $BUILDKIT_SCAN_DESTINATION/<name>.spdx.json
(docs/attestations/sbom-protocol.md of moby/buildkit). BuildKit attaches them to the image.

It lists what is installed, read from the installers' own records: every Python distribution (a
`*.dist-info/METADATA` under a site-packages or dist-packages folder) as pkg:pypi, and every Debian package
(`var/lib/dpkg/status`) as pkg:deb. The document is built and validated by spdx-tools; the same stage is
used locally and on GitHub, so both produce the same document for the same image (SOURCE_DATE_EPOCH, when
set, fixes its creation time).

Standalone: it runs inside the generator image, with only the standard library and spdx-tools.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from email.parser import HeaderParser
from io import StringIO
from pathlib import Path

from spdx_tools.spdx.model.actor import Actor, ActorType
from spdx_tools.spdx.model.document import CreationInfo, Document
from spdx_tools.spdx.model.package import ExternalPackageRef, ExternalPackageRefCategory, Package
from spdx_tools.spdx.model.relationship import Relationship, RelationshipType
from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

TOOL = "backend-sbom-generator (spdx-tools)"
IN_TOTO_STATEMENT = "https://in-toto.io/Statement/v0.1"
SPDX_PREDICATE = "https://spdx.dev/Document"
SITE_FOLDERS = ("site-packages", "dist-packages")
SKIPPED_ROOTS = ("proc", "sys", "dev")


def normalized(name: str) -> str:
    """A Python distribution's name as uv.lock and purls write it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def python_packages(root: Path) -> Iterator[tuple[str, str]]:
    """(name, version) of every Python distribution installed under `root`."""
    for metadata in sorted(root.glob("**/*.dist-info/METADATA")):
        relative = metadata.relative_to(root).parts
        if relative[0] in SKIPPED_ROOTS or not any(part in SITE_FOLDERS for part in relative):
            continue
        headers = HeaderParser().parsestr(metadata.read_text(encoding="utf-8", errors="replace"))
        if headers.get("Name") and headers.get("Version"):
            yield normalized(headers["Name"]), headers["Version"]


def debian_packages(root: Path) -> Iterator[tuple[str, str, str]]:
    """(name, version, architecture) of every installed Debian package under `root`."""
    status = root / "var/lib/dpkg/status"
    if not status.is_file():
        return
    for stanza in status.read_text(encoding="utf-8", errors="replace").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and not line.startswith(" "))
        if fields.get("Status", "").endswith(" installed") and fields.get("Package") and fields.get("Version"):
            yield fields["Package"], fields["Version"], fields.get("Architecture", "")


def spdx_id(kind: str, name: str, version: str) -> str:
    """An SPDX identifier: letters, digits, '.' and '-' only."""
    return "SPDXRef-" + re.sub(r"[^A-Za-z0-9.-]", "-", f"{kind}-{name}-{version}")


def packages_of(root: Path) -> list[Package]:
    found: dict[str, Package] = {}
    for name, version in python_packages(root):
        identifier = spdx_id("pypi", name, version)
        found[identifier] = package(identifier, name, version, f"pkg:pypi/{name}@{version}")
    for name, version, architecture in debian_packages(root):
        identifier = spdx_id("deb", name, version)
        arch = f"?arch={architecture}" if architecture else ""
        found[identifier] = package(identifier, name, version, f"pkg:deb/debian/{name}@{version}{arch}")
    return [found[identifier] for identifier in sorted(found)]


def package(identifier: str, name: str, version: str, purl: str) -> Package:
    return Package(
        spdx_id=identifier,
        name=name,
        version=version,
        download_location=SpdxNoAssertion(),
        files_analyzed=False,
        external_references=[ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", purl)],
    )


def created_at(environ: dict[str, str]) -> datetime:
    epoch = environ.get("SOURCE_DATE_EPOCH", "").strip()
    moment = datetime.fromtimestamp(int(epoch), tz=UTC) if epoch.isdigit() else datetime.now(UTC)
    return moment.replace(microsecond=0, tzinfo=None)


def document_for(root: Path, name: str, environ: dict[str, str]) -> Document:
    """The SPDX document of one filesystem; its namespace is derived from what it lists, so it is unique
    per content and the same for the same content."""
    packages = packages_of(root)
    digest = hashlib.sha256("\n".join(p.external_references[0].locator for p in packages).encode()).hexdigest()
    info = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id="SPDXRef-DOCUMENT",
        name=name,
        document_namespace=f"https://spdx.org/spdxdocs/{name}-{digest}",
        creators=[Actor(ActorType.TOOL, TOOL)],
        created=created_at(environ),
    )
    describes = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, item.spdx_id) for item in packages]
    return Document(creation_info=info, packages=packages, relationships=describes)


def statement(document: Document) -> dict[str, object]:
    """The in-toto statement BuildKit's attestation bundle expects: the SPDX JSON as its predicate (the
    subject is BuildKit's to fill in)."""
    problems = validate_full_spdx_document(document)
    if problems:
        raise SystemExit("sbom-generator: invalid SPDX document: " + "; ".join(p.validation_message for p in problems))
    stream = StringIO()
    write_document_to_stream(document, stream, validate=False)
    return {
        "_type": IN_TOTO_STATEMENT,
        "predicateType": SPDX_PREDICATE,
        "subject": [],
        "predicate": json.loads(stream.getvalue()),
    }


def targets(environ: dict[str, str]) -> list[Path]:
    """The filesystems to scan: the main one, and each of the extras' folder when that exists."""
    found = [Path(environ["BUILDKIT_SCAN_SOURCE"])]
    extras = Path(environ.get("BUILDKIT_SCAN_SOURCE_EXTRAS") or "/nonexistent")
    if extras.is_dir():
        found += sorted(path for path in extras.iterdir() if path.is_dir())
    return found


def main(environ: dict[str, str]) -> int:
    if not environ.get("BUILDKIT_SCAN_SOURCE") or not environ.get("BUILDKIT_SCAN_DESTINATION"):
        print(
            "sbom-generator: BuildKit runs this (BUILDKIT_SCAN_SOURCE and BUILDKIT_SCAN_DESTINATION)", file=sys.stderr
        )
        return 2
    destination = Path(environ["BUILDKIT_SCAN_DESTINATION"])
    for root in targets(environ):
        document = document_for(root, root.name, environ)
        (destination / f"{root.name}.spdx.json").write_text(json.dumps(statement(document)), encoding="utf-8")
        print(f"sbom-generator: {root.name}: {len(document.packages)} packages", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(dict(os.environ)))
