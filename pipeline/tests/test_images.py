"""The pure decisions of the image build: cache backend, builder, arguments."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pipeline import engine, images, sbom
from pipeline.errors import UserError
from pipeline.facts import load

GITHUB = {"GITHUB_ACTIONS": "true"}
GHA_READY = {**GITHUB, "ACTIONS_RUNTIME_TOKEN": "t", "ACTIONS_RESULTS_URL": "https://results"}
DIGEST = "sha256:" + "ab" * 32
OLD_BUILDX = (0, 13)
NEW_BUILDX = (0, 35)


def readable(_: str) -> bool:
    return True


def unreadable(_: str) -> bool:
    return False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("auto", images.CacheRequest("auto")),
        ("none", images.CacheRequest("none")),
        ("registry=ghcr.io/o/n:cache", images.CacheRequest("registry", "ghcr.io/o/n:cache")),
    ],
)
def test_parse_cache_option(value: str, expected: images.CacheRequest) -> None:
    assert images.parse_cache_option(value) == expected


@pytest.mark.parametrize("value", ["s3", "registry=", "inline"])
def test_unknown_cache_backend_is_a_user_error(value: str) -> None:
    with pytest.raises(UserError):
        images.parse_cache_option(value)


def test_gha_when_github_runtime_is_exposed() -> None:
    decision = images.choose_cache(images.CacheRequest("auto"), GHA_READY, readable)
    assert decision == images.CacheDecision("gha")


def test_legacy_cache_url_also_counts() -> None:
    env = {**GITHUB, "ACTIONS_RUNTIME_TOKEN": "t", "ACTIONS_CACHE_URL": "https://cache"}
    assert images.choose_cache(images.CacheRequest("auto"), env, readable).backend == "gha"


def test_on_github_without_token_says_so_and_falls_back_to_local() -> None:
    decision = images.choose_cache(images.CacheRequest("auto"), GITHUB, readable)
    assert decision.backend == "local"
    assert len(decision.notes) == 1
    assert "ACTIONS_RUNTIME_TOKEN" in decision.notes[0]


def test_under_act_uses_local_silently() -> None:
    decision = images.choose_cache(images.CacheRequest("auto"), {**GHA_READY, "ACT": "true"}, readable)
    assert decision == images.CacheDecision("local")


def test_gha_requested_off_github_falls_back_with_a_note() -> None:
    decision = images.choose_cache(images.CacheRequest("gha"), {}, readable)
    assert decision.backend == "local"
    assert decision.notes


def test_auto_off_github_is_local() -> None:
    assert images.choose_cache(images.CacheRequest("auto"), {}, readable) == images.CacheDecision("local")


def test_registry_readable_is_used() -> None:
    decision = images.choose_cache(images.CacheRequest("registry", "r/x:c"), {}, readable)
    assert decision == images.CacheDecision("registry", "r/x:c")


def test_registry_unreadable_builds_without_it_and_says_so() -> None:
    decision = images.choose_cache(images.CacheRequest("registry", "r/x:c"), {}, unreadable)
    assert decision.backend == "none"
    assert "r/x:c cannot be read" in decision.notes[0]


def test_none_means_no_cache_arguments() -> None:
    args = images.cache_args(images.CacheDecision("none"), load(), "runtime", OLD_BUILDX)
    assert args == images.CacheArgs()


def test_gha_arguments_have_a_scope_per_image_and_mode_max() -> None:
    args = images.cache_args(images.CacheDecision("gha"), load(), "runtime", OLD_BUILDX)
    assert args.cache_from == ("type=gha,scope=backend-backend-runtime",)
    assert args.cache_to == ("type=gha,scope=backend-backend-runtime,mode=max",)


def test_registry_arguments_are_typed_never_bare() -> None:
    args = images.cache_args(images.CacheDecision("registry", "r/x:c"), load(), "runtime", OLD_BUILDX)
    assert args.cache_from == ("type=registry,ref=r/x:c",)


def test_local_without_existing_cache_imports_nothing(tmp_path: Path) -> None:
    args = images.cache_args(images.CacheDecision("local"), load(), "runtime", OLD_BUILDX, tmp_path)
    assert args.cache_from == ()
    assert args.staging == tmp_path / "backend-runtime.new"
    assert args.cache_to == (f"type=local,dest={tmp_path / 'backend-runtime.new'},mode=max",)


def test_local_with_existing_cache_imports_it(tmp_path: Path) -> None:
    folder = tmp_path / "backend-runtime"
    folder.mkdir()
    (folder / "index.json").write_text("{}")
    args = images.cache_args(images.CacheDecision("local"), load(), "runtime", OLD_BUILDX, tmp_path)
    assert args.cache_from == (f"type=local,src={folder}",)


def test_new_buildx_resets_the_folder_in_place(tmp_path: Path) -> None:
    args = images.cache_args(images.CacheDecision("local"), load(), "runtime", NEW_BUILDX, tmp_path)
    assert args.staging is None
    assert args.cache_to[0].endswith("reset=true")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3", (0, 13)), ("github.com/docker/buildx v0.35.0 abc", (0, 35))],
)
def test_parse_buildx_version(text: str, expected: tuple[int, int]) -> None:
    assert images.parse_buildx_version(text) == expected


def test_builder_choice() -> None:
    docker_classic = images.BuilderInfo("default", "docker", containerd_store=False)
    docker_containerd = images.BuilderInfo("default", "docker", containerd_store=True)
    assert images.choose_builder({"BUILDX_BUILDER": "mine"}, docker_classic, False, True).name == "mine"
    assert images.choose_builder({}, docker_containerd, False, True) == images.BuilderDecision(None)
    assert images.choose_builder({}, docker_classic, False, False) == images.BuilderDecision(None)
    assert images.choose_builder({}, docker_classic, False, True) == images.BuilderDecision(
        images.DEDICATED_BUILDER, create=True
    )
    assert images.choose_builder({}, docker_classic, True, True).create is False


def test_attestations_are_made_where_the_builder_runs_a_local_generator_and_required_to_publish() -> None:
    containerd = images.BuilderInfo("default", "docker", containerd_store=True)
    classic = images.BuilderInfo("default", "docker", containerd_store=False)
    container = images.BuilderInfo("ci", "docker-container", containerd_store=True)
    for push in (False, True):
        made = images.choose_attestations(True, containerd, push=push, generator="backend:sbom-generator")
        assert made == images.AttestationDecision("backend:sbom-generator")
    for builder, why in (
        (classic, "docker driver without the containerd image store"),
        (container, "docker-container"),
    ):
        skipped = images.choose_attestations(True, builder, push=False, generator="g")
        assert skipped.generator is None
        assert skipped.note
        assert why in skipped.note
        assert "containerd-snapshotter" in skipped.note
        with pytest.raises(UserError, match="Refusing to publish an image without its SBOM") as refused:
            images.choose_attestations(True, builder, push=True, generator="g")
        assert "--no-attest" in refused.value.fix
    unattested = images.choose_attestations(False, classic, push=True, generator="g")
    assert unattested.generator is None
    assert "--no-attest" in str(unattested.note)


def test_a_pushed_build_tells_the_workflow_its_name_digest_and_sbom(tmp_path: Path) -> None:
    metadata = tmp_path / "metadata.json"
    metadata.write_text(f'{{"containerimage.digest": "{DIGEST}"}}')
    checked = sbom.Checked("ghcr.io/o/backend:1a2b", tmp_path / "sbom.spdx.json", tmp_path / "p.json", 17, 98, 16, 3)
    tags = ("ghcr.io/o/backend:1a2b", "ghcr.io/o/backend:local")
    result = images.BuildResult(tags, "gha", 1.0, metadata, "", (), checked)
    assert images.output_lines(result, pushed=True) == [
        f"image=ghcr.io/o/backend@{DIGEST}",
        "name=ghcr.io/o/backend",
        f"digest={DIGEST}",
        f"sbom={tmp_path / 'sbom.spdx.json'}",
    ]
    metadata.write_text("{}")
    with pytest.raises(UserError, match=r"buildx recorded no digest for the pushed ghcr\.io/o/backend:1a2b"):
        images.output_lines(result, pushed=True)
    unattested = images.BuildResult(tags, "local", 1.0, metadata, "", ("attestations: not made: the reason",))
    assert images.output_lines(unattested, pushed=False) == ["image=ghcr.io/o/backend:local"]
    assert images.attestation_rows(unattested) == [["attestations", "not made: the reason"]]
    assert [row[0] for row in images.attestation_rows(result)][:2] == ["SBOM", "SBOM file"]


def test_tags_are_unique_per_commit_plus_a_moving_tag() -> None:
    assert images.image_tags("backend", "abc123", dirty=False) == ("backend:abc123", "backend:local")
    assert images.image_tags("backend", "abc123", dirty=True)[0] == "backend:abc123-dirty"


def test_buildx_command_carries_secret_cache_and_facts(tmp_path: Path) -> None:
    facts = load()
    ca = tmp_path / "ca.pem"
    command = images.buildx_command(
        images.BuildRequest(
            context=facts.root,
            dockerfile=facts.image.dockerfile,
            target="runtime",
            tags=("backend:x",),
            build_args=images.image_build_args(facts),
            cache=images.CacheArgs(("type=local,src=/c",), ("type=local,dest=/c.new,mode=max",)),
            ca_bundle=ca,
            progress="plain",
        )
    )
    assert f"id=ca,src={ca}" in command
    assert f"DJANGO_SETTINGS_MODULE={facts.settings.production}" in command
    assert f"BASE_IMAGE={facts.image.base}" in command
    assert "--load" in command
    assert "--push" not in command
    assert not any("BUILDKIT_INLINE_CACHE" in part for part in command)
    assert command[-1] == str(facts.root)


def test_ca_bundle_must_exist(tmp_path: Path) -> None:
    assert images.ca_bundle_path(None, {}) is None
    with pytest.raises(UserError, match="does not exist"):
        images.ca_bundle_path(str(tmp_path / "missing.pem"), {})
    bundle = tmp_path / "ca.pem"
    bundle.write_text("pem")
    assert images.ca_bundle_path(None, {"BUILD_CA_BUNDLE": str(bundle)}) == bundle


def test_cache_report_reads_plain_progress() -> None:
    log = "\n".join(
        [
            "#7 [builder 5/5] RUN uv sync",
            "#7 CACHED",
            "#9 [runtime 7/8] COPY backend/catalog ./catalog",
            "#9 DONE 0.1s",
        ]
    )
    assert images.cache_report(log) == {
        "builder: RUN uv sync": True,
        "runtime: COPY backend/catalog ./catalog": False,
    }


def test_the_build_report_says_how_many_steps_the_cache_gave(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    log = "#5 [builder 1/2] FROM base\n#5 CACHED\n#6 [builder 2/2] RUN uv sync\n#6 CACHED\n#7 [runtime 1/1] COPY . .\n"
    images.report(images.BuildResult(("backend:local",), "local", 3.0, tmp_path / "none.json", log, ()))
    printed = capsys.readouterr().out  # a table in a terminal (or with FORCE_COLOR), plain lines otherwise
    assert "steps from cache" in printed
    assert "2 of 3" in printed
    assert "| steps from cache | 2 of 3 |" in summary.read_text()
    assert images.cache_rows("a tty's progress display") == []


def test_a_registry_reference_is_lower_case() -> None:
    """GitHub keeps the owner's capitals in `ghcr.io/${{ github.repository_owner }}`; registries refuse them."""
    assert images.repository("backend", "ghcr.io/Some-Owner") == "ghcr.io/some-owner/backend"
    assert images.repository("backend", "ghcr.io/Some-Owner/ ") == "ghcr.io/some-owner/backend"
    assert images.repository("backend") == "backend"


@pytest.mark.tools
def test_a_push_under_a_capitalised_owner_tags_and_pushes_lower_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """build(push=True) end to end with Docker answered by stubs: every tag it pushes is lower case."""
    answers = {
        ("info", "--format", "{{.ServerVersion}}"): "28.0.0",
        ("buildx", "version"): "github.com/docker/buildx v0.36.0 abc",
        ("buildx", "inspect"): "Name: default\nDriver: docker-container\n",
        ("buildx", "inspect", images.DEDICATED_BUILDER): "",
        ("info", "--format", "{{json .DriverStatus}}"): "[]",
    }
    built: list[list[str]] = []

    def docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(["docker", *args], 0 if args in answers else 1, answers.get(args, ""), "")

    def stream(*args: str) -> subprocess.CompletedProcess[str]:
        built.append(["docker", *args])
        return subprocess.CompletedProcess(built[-1], 0, "", "")

    monkeypatch.setattr(engine, "docker", docker)
    monkeypatch.setattr(engine, "stream", stream)
    result = images.build(
        load(),
        cache="none",
        registry="ghcr.io/Some-Owner",
        push=True,
        load=False,
        attest=False,  # a docker-container builder cannot attest: the refusal is tested on its own
        context=tmp_path,
        say=print,
        env={},
    )
    tags = [built[0][index + 1] for index, part in enumerate(built[0]) if part == "--tag"]
    assert tags == list(result.tags)
    assert len(tags) == 2
    assert all(tag.startswith("ghcr.io/some-owner/backend:") for tag in tags)
    assert "--push" in built[0]


@pytest.mark.tools
@pytest.mark.parametrize("registry_digest", [DIGEST, "sha256:" + "cd" * 32])
def test_an_attested_push_builds_the_generator_then_checks_then_pushes_the_checked_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry_digest: str
) -> None:
    """build(push=True) on the docker driver with the containerd store, Docker answered by stubs and the check
    (tested on a real image in test_sbom.py) recorded: the generator stage is built first and only loaded, the
    runtime is attested and not pushed by buildx, the check runs, and only then is each tag pushed; a registry
    that answers another digest than the checked index is refused."""
    answers = {
        ("info", "--format", "{{.ServerVersion}}"): "28.0.0",
        ("buildx", "version"): "github.com/docker/buildx v0.36.0 abc",
        ("buildx", "inspect"): "Name: default\nDriver: docker\n",
        ("info", "--format", "{{json .DriverStatus}}"): '[["driver-type","io.containerd.snapshotter.v1"]]',
    }
    events: list[list[str]] = []

    def docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        if args[0] == "push":
            events.append(["docker", *args])
            return subprocess.CompletedProcess(args, 0, f"{args[1]}: digest: {registry_digest} size: 856\n", "")
        return subprocess.CompletedProcess(args, 0 if args in answers else 1, answers.get(args, ""), "")

    def stream(*args: str) -> subprocess.CompletedProcess[str]:
        events.append(["docker", *args])
        if "--metadata-file" in args:
            Path(args[args.index("--metadata-file") + 1]).write_text(f'{{"containerimage.digest": "{DIGEST}"}}')
        return subprocess.CompletedProcess(events[-1], 0, "", "")

    def check_image(image: str, root: Path, base_image: str, folder: Path) -> sbom.Checked:
        events.append(["check", image])
        return sbom.Checked(image, folder / "sbom.spdx.json", folder / "provenance.json", 17, 98, 16, 3)

    monkeypatch.setattr(engine, "docker", docker)
    monkeypatch.setattr(engine, "stream", stream)
    monkeypatch.setattr(sbom, "check_image", check_image)

    def build() -> images.BuildResult:
        return images.build(
            load(), cache="none", registry="ghcr.io/o", push=True, load=False, context=tmp_path, say=print, env={}
        )

    if registry_digest != DIGEST:
        with pytest.raises(UserError, match="not the checked image index"):
            build()
        return
    result = build()
    generator, runtime, check, *pushes = events
    assert generator[generator.index("--target") + 1] == "sbom-generator"
    assert "--load" in generator
    assert "--push" not in generator
    assert "--attest" not in generator
    assert runtime[runtime.index("--target") + 1] == "runtime"
    assert "--push" not in runtime, "buildx must not push before the check"
    assert "type=sbom,generator=ghcr.io/o/backend:sbom-generator" in runtime
    assert "type=provenance,mode=max" in runtime
    assert check == ["check", result.tags[0]]
    assert pushes == [["docker", "push", tag] for tag in result.tags]
    assert images.output_lines(result, pushed=True)[:3] == [
        f"image=ghcr.io/o/backend@{DIGEST}",
        "name=ghcr.io/o/backend",
        f"digest={DIGEST}",
    ]
