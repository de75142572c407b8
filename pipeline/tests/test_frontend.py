"""The front-end sessions, run for real on a copy of the project."""

from __future__ import annotations

from pathlib import Path

from pipeline.conftest import RunNox

CSS = Path("frontend/dist/app.css")


def test_assets_keep_the_classes_templates_use_and_purge_the_rest(project_copy: Path, run_nox: RunNox) -> None:
    template = project_copy / "backend/catalog/templates/catalog/probe.html"
    template.write_text('<p class="rotate-45 decoration-wavy">only here</p>\n')
    result = run_nox("-s", "assets")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    css = (project_copy / CSS).read_text()
    assert ".rotate-45" in css  # used only in that template
    assert ".decoration-wavy" in css
    assert ".tracking-tight" in css  # used only in the real templates
    assert ".skew-y-12" not in css  # used nowhere: purged
    assert len(css.strip().splitlines()) <= 2  # minified


def test_assets_fail_when_the_build_fails(project_copy: Path, run_nox: RunNox) -> None:
    source = project_copy / "frontend/app.css"
    source.write_text(source.read_text() + '\n@import "no-such-stylesheet";\n')
    result = run_nox("-s", "assets")
    assert result.returncode != 0
    assert "no-such-stylesheet" in result.stdout + result.stderr


def test_template_lint_passes_then_fails_on_a_broken_template(project_copy: Path, run_nox: RunNox) -> None:
    assert run_nox("-s", "templates").returncode == 0
    broken = project_copy / "backend/catalog/templates/catalog/broken.html"
    broken.write_text(
        '{% extends "catalog/base.html" %}\n{% block content %}\n<div><span>x</div>\n{% endblock content %}\n'
    )
    result = run_nox("-s", "templates")
    assert result.returncode != 0
    assert "H025" in result.stdout  # orphan tag
    assert "broken.html" in result.stdout
