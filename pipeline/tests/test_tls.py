"""TLS interception: a failed certificate check ends builds and sessions with the bundle to pass.

The real-tool tests withhold this machine's CA from the build or the session;
where the package index verifies without it (no intercepting proxy), they skip.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

from pipeline import downloads, facts, images, processes
from pipeline.conftest import copy_env
from pipeline.errors import UserError

# What each tool prints when an intercepting proxy's certificate is not trusted.
SAMPLES = {
    "uv": "error: Request failed after 3 retries\n  Caused by: invalid peer certificate: UnknownIssuer",
    "pip": "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed",
    "python": "certificate verify failed: self-signed certificate in certificate chain (_ssl.c:1000)",
    "openssl": "SSL certificate problem: unable to get local issuer certificate",
    "npm": "npm error code SELF_SIGNED_CERT_IN_CHAIN",
}
CA_VARIABLES = (
    "BUILD_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "PIP_CERT",
    "NODE_EXTRA_CA_CERTS",
    "REQUESTS_CA_BUNDLE",
)


@pytest.mark.parametrize("tool", sorted(SAMPLES))
def test_each_tools_certificate_failure_is_recognised(tool: str) -> None:
    explained = downloads.explain(SAMPLES[tool], "`uv sync`", environ={})
    assert explained is not None
    assert "failed on certificate verification" in explained.problem
    assert "--ca-bundle" in explained.fix
    assert "BUILD_CA_BUNDLE" in explained.fix


def test_other_failures_are_not_blamed_on_tls() -> None:
    assert downloads.explain("error: No solution found when resolving dependencies", "`uv sync`", {}) is None
    assert downloads.explain("npm error code ENOTFOUND", "`npm ci`", {}) is None


def test_the_first_existing_system_bundle_is_named(tmp_path: Path) -> None:
    first, second = tmp_path / "a.pem", tmp_path / "b.pem"
    second.write_text("-----BEGIN CERTIFICATE-----\n")
    assert downloads.system_bundle([first, second]) == second
    first.write_text("-----BEGIN CERTIFICATE-----\n")
    assert downloads.system_bundle([first, second]) == first
    assert downloads.system_bundle([tmp_path / "none.pem"]) is None
    error = downloads.tls_error("The image build", "UnknownIssuer", None, second)
    assert f"--ca-bundle {second}" in error.fix
    assert f"BUILD_CA_BUNDLE={second}" in error.fix


def test_a_bundle_that_does_not_help_is_said_so() -> None:
    error = downloads.tls_error("The image build", "UnknownIssuer", "/nonexistent/wrong.pem", Path("/etc/ssl/cert.pem"))
    assert "even with BUILD_CA_BUNDLE/--ca-bundle /nonexistent/wrong.pem" in error.problem


def without_ca(environ: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in environ.items() if key not in CA_VARIABLES}


@pytest.mark.cost(8)
def test_the_image_build_without_the_ca_names_the_bundle(docker_engine: None, project_copy: Path) -> None:
    name = f"pipeline-test-tls-{uuid.uuid4().hex[:8]}"
    env = without_ca({k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "ACTIONS_"))})
    try:
        images.build(
            facts.load(project_copy),
            cache="none",
            no_cache=True,  # download for real: a cached layer would hide the proxy
            load=False,
            image_name=name,
            context=project_copy,
            say=lambda _: None,
            env=env,
        )
    except UserError as error:
        message = str(error)
    else:
        pytest.skip("the build reaches the package index without a CA bundle here (no TLS interception)")
    finally:
        images.remove_local_images(name)
    assert message.startswith("The image build failed on certificate verification")
    bundle = downloads.system_bundle()
    assert bundle is not None  # this machine's interception CA lives in its system bundle
    assert f"--ca-bundle {bundle}" in message
    assert f"BUILD_CA_BUNDLE={bundle}" in message
    assert "first ERROR line" not in message


def run_session(project: Path, session: str, env: dict[str, str], *args: str) -> processes.Completed:
    return processes.run([sys.executable, "-m", "nox", "-s", session, *args], cwd=project, env=env, timeout=900)


@pytest.mark.parametrize(
    ("session", "tool", "extra"), [("lint", "`uv sync`", ["--install-only"]), ("assets", "`npm ci`", [])]
)
def test_a_session_without_the_ca_names_the_bundle_and_the_bundle_fixes_it(
    project_copy: Path, tmp_path: Path, session: str, tool: str, extra: list[str]
) -> None:
    # Cold caches, so the tools really download; every CA variable of this machine withheld.
    # npm's own configuration files may name a cafile too: they are left out as well.
    env = without_ca(copy_env(project_copy)) | {
        "UV_CACHE_DIR": str(tmp_path / "uv"),
        "npm_config_cache": str(tmp_path / "npm"),
        "npm_config_globalconfig": str(tmp_path / "no-global-npmrc"),
        "npm_config_userconfig": str(tmp_path / "no-user-npmrc"),
        "npm_config_fetch_retries": "0",  # fail at once, not after npm's back-off
    }
    env.pop("GITHUB_STEP_SUMMARY", None)
    failed = run_session(project_copy, session, env)
    if failed.returncode == 0:
        pytest.skip(f"{tool} reaches its index without a CA bundle here (no TLS interception)")
    last = failed.stderr.strip().splitlines()[-1]
    assert last.startswith(f"nox > Session {session} aborted: {tool} failed on certificate verification"), (
        failed.stdout[-2000:] + failed.stderr[-2000:]
    )
    bundle = downloads.system_bundle()
    assert f"BUILD_CA_BUNDLE={bundle}" in last
    assert "Traceback" not in failed.stderr
    # With the bundle the message names, the same download succeeds (lint: its install is what downloads).
    fixed = run_session(project_copy, session, {**env, "BUILD_CA_BUNDLE": str(bundle)}, *extra)
    assert fixed.returncode == 0, fixed.stderr[-2000:]


@pytest.mark.cost(8)
def test_doctor_checks_tls_from_a_container_and_names_the_bundle(docker_engine: None, project_copy: Path) -> None:
    def doctor(env: dict[str, str]) -> str:
        result = processes.run([sys.executable, "-m", "invoke", "doctor"], cwd=project_copy, env=env, timeout=300)
        return next(line for line in result.stdout.splitlines() if "TLS to the package index in builds:" in line)

    withheld = doctor(without_ca(copy_env(project_copy)))
    if withheld.split()[0] == "ok":
        pytest.skip("the base image verifies the package index with its own CAs here (no TLS interception)")
    bundle = downloads.system_bundle()
    assert withheld.split()[0] == "missing", withheld
    assert f"this machine's {bundle} verifies" in withheld
    assert f"BUILD_CA_BUNDLE={bundle}" in withheld
    given = doctor(without_ca(copy_env(project_copy)) | {"BUILD_CA_BUNDLE": str(bundle)})
    assert given.split()[0] == "ok", given
    assert f"{bundle} (BUILD_CA_BUNDLE) verifies" in given
