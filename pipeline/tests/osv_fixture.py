"""A small OSV-compatible advisory server on 127.0.0.1, serving fixture advisories.

It answers pip-audit's `POST /v1/query` like api.osv.dev: `{"vulns": [...]}`
for a package/version it knows, `{}` otherwise.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            query = json.loads(self.rfile.read(length) or b"{}")
            key = (query.get("package", {}).get("name", ""), query.get("version", ""))
            vulns = advisories.get(key, [])
            body = json.dumps({"vulns": vulns} if vulns else {}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/query"
    finally:
        server.shutdown()
        server.server_close()
