"""Building the production image with buildx: the decisions, then the effects.

The decisions (cache backend, builder, tags, buildx arguments) are pure
functions of the environment and a few probed facts, tested exhaustively.
`build()` probes those facts, runs buildx and swaps the local cache folder.
Never a bare `--cache-from NAME` and never BUILDKIT_INLINE_CACHE: the
registry cache is used only when asked for and only once it is readable.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from pipeline import console, downloads, engine, lockfiles, processes, sbom
from pipeline.errors import UserError
from pipeline.facts import Facts

# What --cache asks for, and what a build then uses (auto: gha on GitHub, else local).
CacheChoice = Literal["auto", "gha", "local", "registry", "none"]
CacheBackend = Literal["gha", "local", "registry", "none"]
CACHE_CHOICES = ("auto", "gha", "local", "registry=REF", "none")
DEDICATED_BUILDER = "pipeline-builder"
RESET_SUPPORTED_FROM = (0, 35)
LOCAL_TAG = "local"


# --- decisions ---------------------------------------------------------------


@dataclass(frozen=True)
class CacheRequest:
    backend: CacheChoice
    ref: str | None = None


def parse_cache_option(value: str) -> CacheRequest:
    value = value.strip()
    if value.startswith("registry="):
        ref = value.split("=", 1)[1].strip()
        if not ref:
            raise UserError("--cache registry= needs an image reference", "write --cache registry=ghcr.io/o/n:cache")
        return CacheRequest("registry", ref)
    simple: dict[str, CacheChoice] = {"auto": "auto", "gha": "gha", "local": "local", "none": "none"}
    if value in simple:
        return CacheRequest(simple[value])
    raise UserError(
        f"Unknown cache backend {value!r}",
        f"use one of: {', '.join(CACHE_CHOICES)}",
    )


def on_github(env: Mapping[str, str]) -> bool:
    return env.get("GITHUB_ACTIONS") == "true"


def under_act(env: Mapping[str, str]) -> bool:
    """nektos/act sets ACT=true; it has no GitHub cache service."""
    return bool(env.get("ACT"))


def gha_ready(env: Mapping[str, str]) -> bool:
    has_url = bool(env.get("ACTIONS_RESULTS_URL") or env.get("ACTIONS_CACHE_URL"))
    return on_github(env) and not under_act(env) and bool(env.get("ACTIONS_RUNTIME_TOKEN")) and has_url


GHA_MISSING_NOTE = (
    "cache: on GitHub Actions but ACTIONS_RUNTIME_TOKEN/ACTIONS_RESULTS_URL are not visible to this step "
    "(buildx would silently skip the gha cache); add crazy-max/ghaction-github-runtime before it. "
    "Using the local cache instead."
)


@dataclass(frozen=True)
class CacheDecision:
    backend: CacheBackend
    ref: str | None = None
    notes: tuple[str, ...] = ()


def choose_cache(
    request: CacheRequest, env: Mapping[str, str], registry_readable: Callable[[str], bool]
) -> CacheDecision:
    """Which cache backend this build uses, and the one-line notes explaining a fallback."""
    if request.backend == "none":
        return CacheDecision("none")
    if request.backend == "registry" and request.ref:
        return _registry_decision(request.ref, registry_readable)
    if gha_ready(env):
        return CacheDecision("gha")
    if on_github(env) and not under_act(env):
        return CacheDecision("local", notes=(GHA_MISSING_NOTE,))
    if request.backend == "gha":
        note = "cache: gha needs GitHub Actions' cache service, which is not available here; using local."
        return CacheDecision("local", notes=(note,))
    return CacheDecision("local")


def _registry_decision(ref: str, registry_readable: Callable[[str], bool]) -> CacheDecision:
    if registry_readable(ref):
        return CacheDecision("registry", ref)
    note = f"cache: {ref} cannot be read (missing, or needs `docker login`); building without the registry cache."
    return CacheDecision("none", notes=(note,))


def parse_buildx_version(text: str) -> tuple[int, int]:
    """(major, minor) from `docker buildx version` ('github.com/docker/buildx v0.13.1 ...' or '0.13.1+ds1')."""
    match = re.search(r"\bv?(\d+)\.(\d+)(?:\.\d+)?", text)
    if not match:
        raise UserError(f"Cannot read the buildx version from {text.strip()!r}", "update Docker buildx")
    return int(match.group(1)), int(match.group(2))


def local_cache_has_data(folder: Path) -> bool:
    return (folder / "index.json").is_file()


@dataclass(frozen=True)
class CacheArgs:
    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()
    # For buildx without reset=true: export into `staging`, swap into `folder` on success.
    staging: Path | None = None
    folder: Path | None = None


def cache_args(
    decision: CacheDecision, facts: Facts, target: str, buildx_version: tuple[int, int], cache_root: Path | None = None
) -> CacheArgs:
    """--cache-from/--cache-to for the decided backend; one scope/folder per image and target."""
    scope = f"{facts.cache.gha_scope_prefix}-{facts.image.name}-{target}"
    if decision.backend == "gha":
        return CacheArgs((f"type=gha,scope={scope}",), (f"type=gha,scope={scope},mode=max",))
    if decision.backend == "registry":
        return CacheArgs((f"type=registry,ref={decision.ref}",), (f"type=registry,ref={decision.ref},mode=max",))
    if decision.backend == "none":
        return CacheArgs()
    folder = (cache_root or facts.cache.local_dir) / f"{facts.image.name}-{target}"
    cache_from = (f"type=local,src={folder}",) if local_cache_has_data(folder) else ()
    if buildx_version >= RESET_SUPPORTED_FROM:
        return CacheArgs(cache_from, (f"type=local,dest={folder},mode=max,reset=true",))
    staging = folder.with_name(folder.name + ".new")
    return CacheArgs(cache_from, (f"type=local,dest={staging},mode=max",), staging=staging, folder=folder)


@dataclass(frozen=True)
class BuilderInfo:
    name: str
    driver: str
    containerd_store: bool


def builder_can_export_cache(info: BuilderInfo) -> bool:
    """docker-container/kubernetes/remote can; the docker driver only with the containerd image store."""
    return info.driver != "docker" or info.containerd_store


@dataclass(frozen=True)
class BuilderDecision:
    name: str | None  # None: the current builder
    create: bool = False


def choose_builder(
    env: Mapping[str, str], current: BuilderInfo, dedicated_exists: bool, needs_cache_export: bool
) -> BuilderDecision:
    if env.get("BUILDX_BUILDER"):
        return BuilderDecision(env["BUILDX_BUILDER"])
    if not needs_cache_export or builder_can_export_cache(current):
        return BuilderDecision(None)
    return BuilderDecision(DEDICATED_BUILDER, create=not dedicated_exists)


CONTAINERD_STORE_FIX = (
    "enable Docker's containerd image store and build with its default builder (unset BUILDX_BUILDER): "
    "Docker Desktop, Settings > General > Use containerd for pulling and storing images; Docker Engine, "
    '"features": {"containerd-snapshotter": true} in /etc/docker/daemon.json, then restart it; '
    "a GitHub job, docker/setup-docker-action with that daemon-config"
)


def builder_can_attest(info: BuilderInfo) -> bool:
    """BuildKit runs the SBOM generator from the builder's own images: the docker driver's, when the
    engine keeps images in containerd (the generator was built there). A docker-container builder would
    pull it from a registry, and the classic image store drops attestations on load."""
    return info.driver == "docker" and info.containerd_store


@dataclass(frozen=True)
class AttestationDecision:
    generator: str | None  # the SBOM generator image to build first; None: no attestations
    note: str | None = None


def choose_attestations(wanted: bool, builder: BuilderInfo, *, push: bool, generator: str) -> AttestationDecision:
    """Attest where the builder can; refuse to publish an image it cannot attest (unless asked not to)."""
    if not wanted:
        return AttestationDecision(
            None, "attestations: none (--no-attest): no SBOM, only BuildKit's minimal provenance"
        )
    if builder_can_attest(builder):
        return AttestationDecision(generator)
    store = " without the containerd image store" if builder.driver == "docker" else ""
    why = (
        f"the builder {builder.name} ({builder.driver} driver{store}) cannot run an SBOM generator built on this engine"
    )
    if push:
        raise UserError(
            f"Refusing to publish an image without its SBOM and provenance: {why}",
            f"{CONTAINERD_STORE_FIX}; or pass --no-attest to publish it unattested",
        )
    return AttestationDecision(None, f"attestations: not made: {why}. To make and check them, {CONTAINERD_STORE_FIX}.")


def repository(name: str, registry: str | None = None) -> str:
    """The image's repository, `registry/name`, in lower case: registries refuse capitals, and GitHub's
    `ghcr.io/${{ github.repository_owner }}` keeps the owner's ("repository name must be lowercase")."""
    return (f"{registry.strip().rstrip('/')}/{name}" if registry else name).lower()


def image_tags(name: str, git_sha: str, dirty: bool) -> tuple[str, str]:
    """A unique tag for this build (sha, -dirty when the tree has changes) and the moving local tag."""
    unique = f"{name}:{git_sha}{'-dirty' if dirty else ''}"
    return unique, f"{name}:{LOCAL_TAG}"


@dataclass(frozen=True)
class BuildRequest:
    context: Path
    dockerfile: Path
    target: str
    tags: tuple[str, ...]
    build_args: Mapping[str, str]
    cache: CacheArgs = field(default_factory=CacheArgs)
    builder: str | None = None
    ca_bundle: Path | None = None
    push: bool = False
    load: bool = True
    progress: str = "auto"
    metadata_file: Path | None = None
    no_cache: bool = False
    attestations: tuple[str, ...] = ()  # `--attest` values: type=sbom,generator=IMAGE; type=provenance,mode=max


def buildx_command(request: BuildRequest) -> list[str]:
    command = engine.command("buildx", "build")
    if request.builder:
        command += ["--builder", request.builder]
    command += ["--file", str(request.dockerfile), "--target", request.target, "--progress", request.progress]
    for key, value in request.build_args.items():
        command += ["--build-arg", f"{key}={value}"]
    for tag in request.tags:
        command += ["--tag", tag]
    for source in request.cache.cache_from:
        command += ["--cache-from", source]
    for destination in request.cache.cache_to:
        command += ["--cache-to", destination]
    if request.ca_bundle:
        command += ["--secret", f"id=ca,src={request.ca_bundle}"]
    if request.push:
        command.append("--push")
    if request.load:
        command.append("--load")
    if request.metadata_file:
        command += ["--metadata-file", str(request.metadata_file)]
    if request.no_cache:
        command.append("--no-cache")
    for attestation in request.attestations:
        command += ["--attest", attestation]
    command.append(str(request.context))
    return command


def image_build_args(facts: Facts, python: str | None = None, base_image: str | None = None) -> dict[str, str]:
    """Build arguments of backend/Dockerfile, from the single source."""
    version = python or facts.image.python
    base = base_image or facts.image.base_for(version)
    return {
        "PYTHON_VERSION": version,
        "BASE_IMAGE": base,
        "NODE_IMAGE": facts.image.node_image,
        "DJANGO_SETTINGS_MODULE": facts.settings.production,
    }


def ca_bundle_path(option: str | None, env: Mapping[str, str]) -> Path | None:
    raw = option or env.get("BUILD_CA_BUNDLE")
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.is_file():
        raise UserError(f"The CA bundle {path} does not exist", "pass a PEM file to --ca-bundle or BUILD_CA_BUNDLE")
    return path


def with_generator(runtime: BuildRequest, generator: str | None) -> list[BuildRequest]:
    """The builds of one `build-image`: the SBOM generator stage first when the runtime is attested by it.
    The generator builds on the builder stage, so the runtime's cache serves it; it exports none of its own."""
    if generator is None:
        return [runtime]
    stage = replace(runtime, target=sbom.GENERATOR_TARGET, tags=(generator,), metadata_file=None, attestations=())
    return [replace(stage, cache=CacheArgs(cache_from=runtime.cache.cache_from), push=False, load=True), runtime]


def build_failure(returncode: int, output: str, ca_bundle: Path | None = None) -> UserError:
    """The one paragraph for a failed build: a cause recognised in buildx's output, with its fix."""
    if lockfiles.UV_STALE_LOCK in output:
        stale = lockfiles.stale_lock_error()
        return UserError(f"The image build failed: {stale.problem}", stale.fix)
    evidence = downloads.tls_failure(output)
    if evidence:
        given = str(ca_bundle) if ca_bundle else None
        return downloads.tls_error("The image build", evidence, given, downloads.system_bundle())
    return UserError(
        f"The image build failed (exit {returncode}; buildx's output is above)",
        "fix the first ERROR line above; with a cache problem, retry with --cache none",
    )


# --- effects -----------------------------------------------------------------


def require_engine() -> None:
    engine.require_engine()


def buildx_version() -> tuple[int, int]:
    return parse_buildx_version(engine.buildx_version_text())


def current_builder(name: str | None = None) -> BuilderInfo:
    fields = engine.builder_fields(name)
    return BuilderInfo(
        name=fields.get("Name", "default"),
        driver=fields.get("Driver", "docker"),
        containerd_store=engine.containerd_image_store(),
    )


def builder_exists(name: str) -> bool:
    return engine.builder_exists(name)


def registry_readable(ref: str) -> bool:
    return engine.registry_readable(ref)


def git_state(root: Path) -> tuple[str, bool]:
    try:
        sha = processes.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root)
        status = processes.run(["git", "status", "--porcelain"], cwd=root)
    except UserError:  # no git
        return "nogit", True
    if sha.returncode != 0 or status.returncode != 0:
        return "nogit", True
    return sha.stdout.strip(), bool(status.stdout.strip())


def used_builder(decision: BuilderDecision, current: BuilderInfo) -> BuilderInfo:
    """The builder a build runs on: the current one, the dedicated one (which may not exist yet), or another."""
    if decision.name in (None, current.name):
        return current
    if decision.name == DEDICATED_BUILDER:
        return BuilderInfo(DEDICATED_BUILDER, "docker-container", current.containerd_store)
    return current_builder(decision.name)


@dataclass(frozen=True)
class BuildResult:
    tags: tuple[str, ...]
    cache_backend: CacheBackend
    seconds: float
    metadata_file: Path
    output: str
    notes: tuple[str, ...]
    attestations: sbom.Checked | None = None


def build(
    facts: Facts,
    *,
    cache: str = "auto",
    target: str | None = None,
    python: str | None = None,
    base_image: str | None = None,
    image_name: str | None = None,
    registry: str | None = None,
    ca_bundle: str | None = None,
    push: bool = False,
    load: bool = True,
    no_cache: bool = False,
    attest: bool = True,
    context: Path | None = None,
    cache_root: Path | None = None,
    say: Callable[[str], None] = print,
    env: Mapping[str, str] | None = None,
) -> BuildResult:
    """Build the image for real; returns what was built. Raises UserError with the fix."""
    environ = os.environ if env is None else env
    target = target or facts.image.target
    name = repository(image_name or facts.image.name, registry)
    require_engine()
    version = buildx_version()
    decision = choose_cache(parse_cache_option(cache), environ, registry_readable)
    for note in decision.notes:
        say(note)
    current = current_builder()
    builder_decision = choose_builder(environ, current, builder_exists(DEDICATED_BUILDER), decision.backend != "none")
    used = used_builder(builder_decision, current)
    attestation = choose_attestations(attest, used, push=push, generator=f"{name}:{sbom.GENERATOR_TARGET}")
    if attestation.note:
        say(attestation.note)
    if builder_decision.create:
        say(f"builder: creating {DEDICATED_BUILDER} (docker-container driver); your default builder is unchanged")
        created = engine.docker(
            "buildx", "create", "--name", DEDICATED_BUILDER, "--driver", "docker-container", timeout=120
        )
        if created.returncode != 0:
            raise UserError(
                f"Cannot create a buildx builder: {created.stderr.strip()}",
                "set BUILDX_BUILDER to a builder that can export cache, or use --cache none",
            )
    cache_plan = cache_args(decision, facts, target, version, cache_root)
    root = context or facts.root
    sha, dirty = git_state(root)
    tags = image_tags(name, sha, dirty)
    metadata = root / ".cache" / "build-metadata" / f"{name}-{target}.json"
    metadata.parent.mkdir(parents=True, exist_ok=True)
    if cache_plan.staging:
        shutil.rmtree(cache_plan.staging, ignore_errors=True)
    bundle = ca_bundle_path(ca_bundle, environ)
    build_args = image_build_args(facts, python, base_image)
    runtime = BuildRequest(
        context=root,
        dockerfile=root / facts.image.dockerfile.relative_to(facts.root),
        target=target,
        tags=tags,
        build_args=build_args,
        cache=cache_plan,
        builder=builder_decision.name,
        ca_bundle=bundle,
        # An attested image is pushed only once its attestations passed their check (push_checked, below).
        push=push and not attestation.generator,
        load=load,
        progress="auto" if sys.stdout.isatty() else "plain",
        metadata_file=metadata,
        no_cache=no_cache,
        attestations=sbom.attestation_flags(attestation.generator) if attestation.generator else (),
    )
    with engine.exclusive_builds(waiting=lambda: say("build: waiting for another image build on this engine")):
        started = time.monotonic()
        for stage in with_generator(runtime, attestation.generator):
            command = buildx_command(stage)
            say(f"build: {' '.join(command)}")
            output = engine.stream(*command[1:])
            if output.returncode != 0:
                if cache_plan.staging:
                    shutil.rmtree(cache_plan.staging, ignore_errors=True)
                raise build_failure(output.returncode, output.stdout, bundle)
        seconds = time.monotonic() - started
    if cache_plan.staging and cache_plan.folder:
        _swap(cache_plan.staging, cache_plan.folder)
    checked = None
    if attestation.generator:
        folder = root / ".cache" / "attestations" / re.sub(r"[^\w.-]+", "-", tags[0])
        checked = sbom.check_image(tags[0], root, build_args["BASE_IMAGE"], folder)
        if push:
            push_checked(tags, digest_from_metadata(metadata), say)
    notes = (*decision.notes, *((attestation.note,) if attestation.note else ()))
    return BuildResult(tags, decision.backend, seconds, metadata, output.stdout, notes, checked)


PUSHED_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")


def push_checked(tags: tuple[str, ...], built: str, say: Callable[[str], None]) -> None:
    """Push an image whose attestations passed their check: `docker push` of the containerd store sends the
    image's whole index, attestations included, so the registry must then hold exactly the checked digest."""
    for tag in tags:
        say(f"push: docker push {tag}")
        pushed = engine.docker("push", tag, timeout=1800)
        if pushed.returncode != 0:
            raise UserError(f"Pushing {tag} failed: {pushed.stderr.strip()}", "check `docker login` and the registry")
        found = PUSHED_DIGEST.findall(pushed.stdout)
        if found[-1:] != [built]:
            raise UserError(
                f"The registry holds {tag} as {found[-1] if found else 'an unknown digest'}, not the checked image "
                f"index {built}: this engine's push did not send the index with its attestations",
                f"push from Docker Engine 25 or newer on the containerd image store; {CONTAINERD_STORE_FIX}",
            )


def _swap(staging: Path, folder: Path) -> None:
    """Replace the cache folder by the freshly exported one, so it never grows."""
    old = folder.with_name(folder.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def remove_local_images(name: str) -> None:
    """Remove every local tag of the repository `name` (images a test or benchmark built), nothing else."""
    engine.remove_repository_images(name)


def digest_from_metadata(path: Path) -> str:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return "unknown"
    return str(data.get("containerimage.digest", "unknown"))


def report(result: BuildResult) -> None:
    rows = [
        ["tags", ", ".join(result.tags)],
        ["digest", digest_from_metadata(result.metadata_file)],
        ["cache", result.cache_backend],
        *cache_rows(result.output),
        ["time", f"{result.seconds:.1f}s"],
        ["metadata", str(result.metadata_file)],
        *attestation_rows(result),
    ]
    console.table("Image built", ["what", "value"], rows)
    console.step_summary("### Image build\n\n" + console.markdown_table(["what", "value"], rows))
    console.success(f"build-image: {result.tags[0]} built ({result.cache_backend} cache, {result.seconds:.0f}s)")


def attestation_rows(result: BuildResult) -> list[list[str]]:
    if result.attestations:
        return result.attestations.rows()
    why = next((note for note in result.notes if note.startswith("attestations:")), "attestations: none")
    return [["attestations", why.removeprefix("attestations: ")]]


DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def output_lines(result: BuildResult, *, pushed: bool) -> list[str]:
    """What a workflow's later steps read: `image` (NAME@DIGEST after a push, else the local tag); after a
    push, `name` and `digest` apart (actions/attest's subject); `sbom`, the checked SPDX document."""
    if pushed and not DIGEST.fullmatch(digest_from_metadata(result.metadata_file)):
        raise UserError(
            f"buildx recorded no digest for the pushed {result.tags[0]} in {result.metadata_file}",
            "rebuild with --push; a workflow's later steps (actions/attest, the promotion) need the digest",
        )
    lines = [f"image={pushed_reference(result) if pushed else result.tags[-1]}"]
    if pushed:
        lines += [f"name={result.tags[0].rsplit(':', 1)[0]}", f"digest={digest_from_metadata(result.metadata_file)}"]
    if result.attestations:
        lines.append(f"sbom={result.attestations.sbom_file}")
    return lines


def write_output(result: BuildResult, output: str | None, *, pushed: bool) -> None:
    """`output_lines` appended to `output` ($GITHUB_OUTPUT)."""
    if not output:
        return
    with Path(output).open("a", encoding="utf-8") as handle:
        handle.writelines(f"{line}\n" for line in output_lines(result, pushed=pushed))


STEP_LINE = re.compile(r"^#(\d+) \[(?P<stage>[\w-]+) +\d+/\d+\] (?P<instruction>.+)$")
CACHED_LINE = re.compile(r"^#(\d+) CACHED$")


def cache_report(output: str) -> dict[str, bool]:
    """{'<stage>: <instruction>': cached?} from a `--progress=plain` build log."""
    steps: dict[str, str] = {}
    cached: set[str] = set()
    for line in output.splitlines():
        if match := STEP_LINE.match(line.strip()):
            steps.setdefault(match.group(1), f"{match.group('stage')}: {match.group('instruction')}")
        elif match := CACHED_LINE.match(line.strip()):
            cached.add(match.group(1))
    return {step: number in cached for number, step in steps.items()}


def cache_rows(output: str) -> list[list[str]]:
    """How many build steps the cache gave (a plain-progress log: CI, a pipe): the figure that shows a
    cache that was not found or not readable, which buildx only warns about."""
    steps = cache_report(output)
    return [["steps from cache", f"{sum(steps.values())} of {len(steps)}"]] if steps else []


def pushed_reference(result: BuildResult) -> str:
    """name@digest of a pushed build: what a deployment pins to."""
    return f"{result.tags[0].rsplit(':', 1)[0]}@{digest_from_metadata(result.metadata_file)}"


def promote_command(image: str, to: str) -> list[str]:
    """Point the tag `to` at exactly the given name@digest, in the registry (no rebuild)."""
    if "@sha256:" not in image:
        raise UserError(f"{image} is not pinned to a digest", "pass NAME@sha256:..., as build-image --push prints it")
    name = image.split("@", 1)[0]
    return engine.command("buildx", "imagetools", "create", "--tag", f"{name}:{to}", image)


def promote(image: str, to: str) -> None:
    command = promote_command(image, to)
    result = engine.docker(*command[1:], timeout=300)
    if result.returncode != 0:
        raise UserError(
            f"Promoting {image} to {to} failed: {result.stderr.strip()}", "check `docker login` and the ref"
        )
