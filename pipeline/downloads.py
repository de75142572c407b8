"""Why a download failed, in the user's terms: a stale lock, or TLS interception.

Sessions (uv, npm) and the image build run tools that fetch packages. When
one fails, its output is matched here, so the run ends with the one fix that
applies instead of the tool's own hint. Behind a TLS-intercepting proxy the
fix is the proxy's CA: `BUILD_CA_BUNDLE` (sessions and builds) or
`invoke build-image --ca-bundle PATH`; the system bundle of this machine,
which usually holds a corporate CA, is named when there is one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from pipeline import lockfiles
from pipeline.errors import UserError

# uv (rustls): "invalid peer certificate: UnknownIssuer"; Python/pip/OpenSSL:
# CERTIFICATE_VERIFY_FAILED, "self-signed certificate in certificate chain",
# "unable to get local issuer certificate"; npm: its error codes.
TLS_FAILURE = re.compile(
    r"UnknownIssuer|CERTIFICATE_VERIFY_FAILED|self[- ]signed certificate in certificate chain"
    r"|unable to get local issuer certificate|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY"
    r"|UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    re.IGNORECASE,
)
# Where operating systems keep their CA bundle (Debian/Ubuntu, Fedora/RHEL, openSUSE, macOS/BSD, Homebrew).
SYSTEM_BUNDLES = (
    Path("/etc/ssl/certs/ca-certificates.crt"),
    Path("/etc/pki/tls/certs/ca-bundle.crt"),
    Path("/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"),
    Path("/etc/ssl/ca-bundle.pem"),
    Path("/etc/ssl/cert.pem"),
    Path("/opt/homebrew/etc/ca-certificates/cert.pem"),
    Path("/usr/local/etc/ca-certificates/cert.pem"),
)
CA_VARIABLE = "BUILD_CA_BUNDLE"


def system_bundle(candidates: Iterable[Path] = SYSTEM_BUNDLES) -> Path | None:
    """The first CA bundle of this machine's usual places that exists."""
    return next((path for path in candidates if path.is_file() and path.stat().st_size > 0), None)


def tls_failure(output: str) -> str | None:
    """The certificate-verification error in a tool's output, if there is one."""
    match = TLS_FAILURE.search(output)
    return match.group(0) if match else None


def tls_error(what: str, evidence: str, given: str | None, bundle: Path | None) -> UserError:
    """One paragraph: what failed, why (a TLS-intercepting proxy), and which bundle to pass."""
    problem = (
        f"{what} failed on certificate verification ({evidence}): something between this machine and the "
        "package index, usually a TLS-intercepting proxy, presents a certificate that the tool's CAs do not trust"
    )
    if given:
        return UserError(
            f"{problem}, even with {CA_VARIABLE}/--ca-bundle {given}",
            "pass a bundle that holds the proxy's CA (ask whoever runs the proxy for it)"
            + (f"; this machine's system bundle is {bundle}" if bundle and str(bundle) != given else ""),
        )
    if bundle:
        fix = (
            f"pass the proxy's CA bundle: `invoke build-image --ca-bundle {bundle}`, or export "
            f"{CA_VARIABLE}={bundle} for the builds and the sessions alike ({bundle} is this machine's "
            "system bundle, which usually holds it; any PEM file with the proxy's CA works)"
        )
    else:
        fix = (
            f"pass the proxy's CA as a PEM file: `invoke build-image --ca-bundle PATH`, or export "
            f"{CA_VARIABLE}=PATH for the builds and the sessions alike (no system bundle was found on this machine)"
        )
    return UserError(problem, fix)


def explain(output: str, what: str, environ: Mapping[str, str] | None = None) -> UserError | None:
    """The UserError for a failure this module recognises in `output`; None for any other failure."""
    env = os.environ if environ is None else environ
    if lockfiles.UV_STALE_LOCK in output:
        return lockfiles.stale_lock_error()
    evidence = tls_failure(output)
    if evidence:
        return tls_error(what, evidence, env.get(CA_VARIABLE) or None, system_bundle())
    return None


def ca_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """With BUILD_CA_BUNDLE set, the variables that make uv, pip and npm trust it on this machine too."""
    env = os.environ if environ is None else environ
    bundle = env.get(CA_VARIABLE)
    if not bundle:
        return {}
    path = Path(bundle).expanduser()
    if not path.is_file():
        raise UserError(f"{CA_VARIABLE}={bundle} is not a file", f"point {CA_VARIABLE} at a PEM file, or unset it")
    return {"SSL_CERT_FILE": str(path), "PIP_CERT": str(path), "NODE_EXTRA_CA_CERTS": str(path)}
