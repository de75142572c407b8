"""A small OSV-compatible advisory server on 127.0.0.1, serving fixture advisories.

It answers pip-audit's `POST /v1/query` like api.osv.dev: `{"vulns": [...]}`
for a package/version it knows, `{}` otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from pipeline.tests.local_server import JsonHandler, serving

Advisories = Mapping[tuple[str, str], list[dict[str, Any]]]


def advisory(advisory_id: str, package: str, fixed: str, summary: str) -> dict[str, Any]:
    return {
        "id": advisory_id,
        "summary": summary,
        "affected": [
            {
                "package": {"name": package, "ecosystem": "PyPI"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
            }
        ],
    }


@contextmanager
def osv_server(advisories: Advisories) -> Iterator[str]:
    """Serve `advisories` ({(package, version): [vuln, ...]}); yield the query URL."""

    class Handler(JsonHandler):
        def do_POST(self) -> None:  # noqa: N802 -- http.server's handler names
            length = int(self.headers.get("Content-Length", "0"))
            query = json.loads(self.rfile.read(length) or b"{}")
            key = (query.get("package", {}).get("name", ""), query.get("version", ""))
            vulns = advisories.get(key, [])
            self.answer_json(200, json.dumps({"vulns": vulns} if vulns else {}).encode())

    with serving(Handler) as base:
        yield f"{base}/v1/query"
