"""The HTML report of a local run, written beside its logs after every run (passed, failed or
interrupted): the job graph with `needs` as edges, a timeline of every instance (when it waited, ran and
ended), the critical path marked in both, and each job's result, time and log.

One file with its styles inside and no script: it opens from disk, offline, in any browser, and can be
attached to a bug report as it is. It is drawn from the run's record (`pipeline.actions.history`), the
same facts `invoke ci --failed` reads.
"""

from __future__ import annotations

import html
import itertools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.actions.history import Ended, RunRecord, record_stem
from pipeline.actions.model import Result, job_result
from pipeline.actions.session import ANSI_CODE, LOG_DIR, safe_name

SLACK = 1.0  # seconds: a job starts a moment after the need it waited for ended
LOG_BYTES = 512 * 1024  # of each log, the end is kept in the page (the file beside it has all of it)
NODE_WIDTH, NODE_HEIGHT, GAP_X, GAP_Y, PAD = 200, 44, 70, 18, 12
PASSING = (Result.SUCCESS, Result.SKIPPED)


def report_path(root: Path, workflow: str, event: str) -> Path:
    return root / LOG_DIR / f"{record_stem(workflow)}.{event}.html"


def critical_path(record: RunRecord) -> list[str]:
    """The instances that decided the wall time, first to last: from the instance that ran and ended last, back
    through the instance of a needed job that ended last before it started (a skipped job passes the
    wait on, as it does on GitHub)."""
    ended = [instance for instance in record.instances if instance.ended]
    if not ended:
        return []
    ran = [instance for instance in ended if instance.started]  # skips at the end decided nothing
    current = max(ran or ended, key=lambda instance: instance.ended)
    path = [current.key]
    while True:
        began = current.started or current.ended
        needed = set(record.needs.get(current.job_id, ()))
        waited_for = [i for i in ended if i.job_id in needed and i.ended <= began + SLACK]
        if not waited_for:
            return path[::-1]
        current = max(waited_for, key=lambda instance: instance.ended)
        path.append(current.key)


def columns(needs: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Jobs in columns by the longest chain of needs before them; in a column, near the jobs they need."""
    depth: dict[str, int] = {}

    def depth_of(job: str) -> int:
        if job not in depth:
            depth[job] = 1 + max((depth_of(need) for need in needs.get(job, ()) if need in needs), default=-1)
        return depth[job]

    layers: list[list[str]] = [[] for _ in range(1 + max((depth_of(job) for job in needs), default=-1))]
    for job in needs:
        layers[depth_of(job)].append(job)
    row: dict[str, int] = {}
    for layer in layers:
        order = {job: index for index, job in enumerate(layer)}

        def near_needs(job: str, order: Mapping[str, int] = order) -> tuple[float, int]:
            rows = [row[need] for need in needs.get(job, ()) if need in row]
            return (sum(rows) / len(rows) if rows else float(order[job]), order[job])

        layer.sort(key=near_needs)
        row.update({job: index for index, job in enumerate(layer)})
    return layers


@dataclass(frozen=True)
class JobView:
    """A job as the graph shows it: its result over its instances, its time, whether it is on the path."""

    job_id: str
    result: Result
    seconds: float
    instances: int
    critical: bool
    anchor: str  # the id of its first instance's log in the page


def anchor_of(key: str) -> str:
    return "job-" + safe_name(key)


def job_views(record: RunRecord, critical: set[str]) -> dict[str, JobView]:
    views = {}
    for job_id in record.needs:
        mine = [instance for instance in record.instances if instance.job_id == job_id]
        results = [Result.SUCCESS if instance.tolerated else instance.result for instance in mine]
        views[job_id] = JobView(
            job_id,
            job_result(results) if mine else Result.CANCELLED,  # never reached: an interrupted run
            max((instance.seconds for instance in mine), default=0.0),
            len(mine),
            any(instance.key in critical for instance in mine),
            anchor_of(mine[0].key if mine else job_id),
        )
    return views


def graph_svg(record: RunRecord, views: Mapping[str, JobView], critical: Sequence[str]) -> str:
    layers = columns(record.needs)
    tallest = max((len(layer) for layer in layers), default=0)
    width = PAD * 2 + len(layers) * NODE_WIDTH + max(len(layers) - 1, 0) * GAP_X
    height = PAD * 2 + tallest * NODE_HEIGHT + max(tallest - 1, 0) * GAP_Y
    where = {
        job: (PAD + column * (NODE_WIDTH + GAP_X), PAD + row * (NODE_HEIGHT + GAP_Y))
        for column, layer in enumerate(layers)
        for row, job in enumerate(layer)
    }
    job_of = {instance.key: instance.job_id for instance in record.instances}
    critical_jobs = [job_of[key] for key in critical]
    critical_edges = set(itertools.pairwise(critical_jobs))
    parts = [f'<svg class="graph" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">']
    parts.append(f"<title>{len(where)} jobs; an arrow goes from a job to the jobs that need it</title>")
    for job, needed in record.needs.items():
        for need in needed:
            if need not in where:
                continue
            (left, top), (right, bottom) = where[need], where[job]
            x1, y1, x2, y2 = left + NODE_WIDTH, top + NODE_HEIGHT / 2, right, bottom + NODE_HEIGHT / 2
            bend = (x2 - x1) / 2
            kind = "edge critical" if (need, job) in critical_edges else "edge"
            parts.append(
                f'<path class="{kind}" data-from="{html.escape(need)}" data-to="{html.escape(job)}" '
                f'd="M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1:.0f} {x2 - bend:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"/>'
            )
    for job, (x, y) in where.items():
        view = views[job]
        classes = f"node result-{view.result.value}" + (" critical" if view.critical else "")
        label = job if len(job) <= 24 else job[:23] + "…"
        entries = f" · {view.instances} entries" if view.instances > 1 else ""
        parts.append(
            f'<a href="#{html.escape(view.anchor)}"><g class="{classes}" data-job="{html.escape(job)}">'
            f'<rect x="{x}" y="{y}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="6"/>'
            f'<text x="{x + 10}" y="{y + 18}" class="name">{html.escape(label)}</text>'
            f'<text x="{x + 10}" y="{y + 35}" class="sub">{view.result.value} · {view.seconds:.1f}s{entries}</text>'
            "</g></a>"
        )
    parts.append("</svg>")
    return "".join(parts)


def percent(value: float, whole: float) -> str:
    return f"{max(0.0, min(100.0, 100 * value / whole)) if whole > 0 else 0.0:.3f}%"


def timeline_html(record: RunRecord, critical: set[str]) -> str:
    """A row per instance, in the order they were queued: a grey bar while it waited for a runner slot,
    a coloured one while it ran, on an axis from the run's start to its end."""
    end = max([record.started + record.wall, *(instance.ended for instance in record.instances)])
    span = end - record.started
    rows = []
    for instance in sorted(record.instances, key=lambda i: (i.queued or i.ended, i.started or i.ended, i.key)):
        queued = (instance.queued or instance.started or instance.ended) - record.started
        started = (instance.started or instance.ended) - record.started
        ended = (instance.ended or end) - record.started
        bars = [
            f'<span class="wait" style="left:{percent(queued, span)};width:{percent(started - queued, span)}" '
            f'title="waited {started - queued:.1f}s"></span>'
        ]
        if instance.started:
            bars.append(
                f'<span class="run result-{instance.result.value}" style="left:{percent(started, span)};'
                f'width:{percent(ended - started, span)}" title="ran {ended - started:.1f}s"></span>'
            )
        else:
            bars.append(
                f'<span class="mark result-{instance.result.value}" style="left:{percent(ended, span)}"></span>'
            )
        classes = "row critical" if instance.key in critical else "row"
        what = f"{instance.result.value}, {ended - started:.1f}s" if instance.started else instance.result.value
        rows.append(
            f'<div class="{classes}" data-key="{html.escape(instance.key)}">'
            f'<a class="label" href="#{html.escape(anchor_of(instance.key))}">{html.escape(instance.key)}</a>'
            f'<div class="track">{"".join(bars)}</div><span class="what">{html.escape(what)}</span></div>'
        )
    digits = 0 if span >= 40 else 1
    ticks = "".join(
        f'<span class="tick" style="left:{percent(span * step / 4, span)}">{span * step / 4:.{digits}f}s</span>'
        for step in range(5)
    )
    axis = f'<div class="row axis"><span></span><div class="track">{ticks}</div></div>'
    return f'<div class="timeline">{axis}{"".join(rows)}</div>'


def log_text(root: Path, log: str) -> str:
    """The end of a log, without colour codes; a note where the beginning is left out."""
    try:
        with (root / log).open("rb") as file:
            size = file.seek(0, os.SEEK_END)
            file.seek(max(0, size - LOG_BYTES))
            text = file.read().decode("utf-8", errors="replace")
    except OSError:
        return "(the log is gone)"
    cut = (
        f"[the first {size - LOG_BYTES} bytes are left out; the whole log is in the file]\n" if size > LOG_BYTES else ""
    )
    return cut + ANSI_CODE.sub("", text)


def jobs_html(record: RunRecord, root: Path, page: Path, critical: set[str]) -> str:
    parts = []
    for instance in record.instances:
        failed = instance.result not in PASSING and not instance.tolerated
        waited = (instance.started - instance.queued) if instance.started and instance.queued else 0.0
        facts = [instance.result.value + (f" ({instance.note})" if instance.note else "")]
        if instance.tolerated:
            facts.append("continue-on-error: the run passes")
        if instance.kept_from:
            facts.append(f"kept from run {instance.kept_from}")
        if instance.started:
            facts.append(f"waited {waited:.1f}s, ran {instance.seconds:.1f}s")
        if instance.key in critical:
            facts.append("on the critical path")
        body = "<p>no log: the job ran no step</p>"
        if instance.log:
            link = os.path.relpath(root / instance.log, page.parent)
            body = (
                f'<p><a href="{html.escape(link)}">{html.escape(instance.log)}</a></p>'
                f"<pre>{html.escape(log_text(root, instance.log))}</pre>"
            )
        parts.append(
            f'<details class="job result-{instance.result.value}"{" open" if failed else ""}><summary>'
            f"<b>{html.escape(instance.key)}</b> {html.escape(' · '.join(facts))}</summary>"
            f'<div id="{html.escape(anchor_of(instance.key))}" class="log">{body}</div></details>'
        )
    reached = {instance.job_id for instance in record.instances}
    for job_id in record.needs:
        if job_id not in reached:
            parts.append(
                f'<details id="{html.escape(anchor_of(job_id))}" class="job result-cancelled"><summary>'
                f"<b>{html.escape(job_id)}</b> not reached: the run was stopped first</summary></details>"
            )
    return "".join(parts)


def passed(record: RunRecord) -> bool:
    return all(instance.result in PASSING or instance.tolerated for instance in record.instances)


STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1f2328;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}
.verdict{font-weight:600}.verdict.passed{color:#1a7f37}.verdict.failed{color:#cf222e}
.legend span{display:inline-block;margin-right:14px}.swatch{width:12px;height:12px;border-radius:2px;
display:inline-block;vertical-align:-1px;margin-right:4px}
.graph{max-width:100%;height:auto}.graph a{text-decoration:none}
.node rect{fill:#f6f8fa;stroke:#8c959f;stroke-width:1.5}.node.critical rect{stroke:#8250df;stroke-width:3.5}
.node .name{font-weight:600;fill:#1f2328}.node .sub{fill:#57606a;font-size:12px}
.node.result-success rect{fill:#dafbe1}.node.result-failure rect{fill:#ffebe9}
.node.result-cancelled rect{fill:#fff8c5}.node.result-skipped rect{fill:#f6f8fa;stroke-dasharray:4 3}
.edge{fill:none;stroke:#8c959f;stroke-width:1.5}.edge.critical{stroke:#8250df;stroke-width:3.5}
.timeline{display:grid;gap:3px}.row{display:grid;grid-template-columns:220px 1fr 150px;align-items:center;gap:8px}
.row .label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;color:#1f2328}
.row.critical .label{font-weight:700;color:#8250df}
.track{position:relative;height:16px;background:#f6f8fa;border-radius:3px}
.axis .track{background:none;height:18px}
.tick{position:absolute;font-size:11px;color:#57606a;transform:translateX(-50%)}
.wait,.run,.mark{position:absolute;top:2px;height:12px;border-radius:2px}
.wait{background:repeating-linear-gradient(45deg,#d0d7de 0 3px,#eaeef2 3px 6px)}
.run{min-width:2px}.mark{width:3px}.row.critical .run{outline:2px solid #8250df}
.result-success.run,.result-success.mark,.swatch.result-success{background:#2da44e}
.result-failure.run,.result-failure.mark,.swatch.result-failure{background:#cf222e}
.result-cancelled.run,.result-cancelled.mark,.swatch.result-cancelled{background:#bf8700}
.result-skipped.run,.result-skipped.mark,.swatch.result-skipped{background:#8c959f}
.what{font-size:12px;color:#57606a}
details.job{border:1px solid #d0d7de;border-radius:6px;margin:6px 0;padding:6px 10px}
details.job.result-failure{border-color:#cf222e}
pre{background:#0d1117;color:#e6edf3;padding:10px;border-radius:6px;overflow:auto;max-height:480px;
white-space:pre-wrap;font-size:12px}
"""


def render(record: RunRecord, root: Path, page: Path) -> str:
    path = critical_path(record)
    critical = set(path)
    views = job_views(record, critical)
    verdict = "passed" if passed(record) else "failed"
    serial = sum(instance.seconds for instance in record.instances)
    on_path = sum(instance.seconds for instance in record.instances if instance.key in critical)
    legend = (
        "".join(f'<span><i class="swatch result-{result.value}"></i>{result.value}</span>' for result in Result)
        + '<span><i class="swatch" style="background:#8250df"></i>critical path</span>'
    )
    title = f"invoke ci: {record.workflow} on {record.event}"
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{STYLE}</style></head><body>'
        f"<h1>{html.escape(title)}</h1>"
        f'<p><span class="verdict {verdict}">{verdict}</span> · run {html.escape(record.run_id)} · '
        f"wall time {record.wall:.0f}s against {serial:.0f}s of job time in series</p>"
        f'<p class="path">critical path ({on_path:.0f}s of running): '
        f"{html.escape(' → '.join(path)) or 'none'}</p>"
        f'<p class="legend">{legend}</p>'
        f"<h2>Jobs and their needs</h2>{graph_svg(record, views, path)}"
        f"<h2>Timeline</h2>{timeline_html(record, critical)}"
        f"<h2>Results and logs</h2>{jobs_html(record, root, page, critical)}"
        "</body></html>"
    )


def write(record: RunRecord, root: Path) -> Path:
    page = report_path(root, record.workflow, record.event)
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(render(record, root, page), encoding="utf-8")
    return page


__all__ = ["Ended", "columns", "critical_path", "render", "report_path", "write"]
