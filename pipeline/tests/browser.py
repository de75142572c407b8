"""A real headless browser for the tests: Chromium, driven over the DevTools protocol (CDP).

What a person sees is what the browser computes, so the tests ask it:
`getComputedStyle` of the real page's elements, with its stylesheets on and
then off, through `Runtime.evaluate`. Chromium is the system's (Debian's
`chromium`, or Google Chrome); the protocol client is `websockets`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",  # Chromium picks one and writes it to DevToolsActivePort
)
INSTALL_HINT = "install Chromium (Debian/Ubuntu: apt-get install chromium) or Google Chrome"

# The styles of each selector's element, with the page's stylesheets applied and then disabled.
STYLES_SCRIPT = """
((wanted) => {
    const read = () => Object.fromEntries(Object.entries(wanted).map(([selector, properties]) => {
        const element = document.querySelector(selector);
        if (!element) return [selector, null];
        const style = getComputedStyle(element);
        return [selector, Object.fromEntries(properties.map((name) => [name, style.getPropertyValue(name)]))];
    }));
    const sheets = [...document.styleSheets].map((sheet) => ({href: sheet.href, rules: sheet.cssRules.length}));
    const styled = read();
    for (const sheet of document.styleSheets) sheet.disabled = true;
    const unstyled = read();
    for (const sheet of document.styleSheets) sheet.disabled = false;
    return {sheets, styled, unstyled};
})(%s)
"""


class BrowserError(Exception):
    """Chromium or the page did not do what was asked."""


def find_chromium() -> str | None:
    return next((path for name in BINARIES if (path := shutil.which(name))), None)


class Page:
    """One tab, over its DevTools websocket: commands with ids, events read in between."""

    def __init__(self, connection: ClientConnection, timeout: float) -> None:
        self.connection = connection
        self.timeout = timeout
        self.next_id = 0

    def receive(self, deadline: float) -> dict[str, Any]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise BrowserError(f"Chromium answered nothing within {self.timeout:g}s")
        message: dict[str, Any] = json.loads(self.connection.recv(timeout=remaining))
        return message

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        self.connection.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        deadline = time.monotonic() + self.timeout
        while True:
            message = self.receive(deadline)
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    def open(self, url: str, headers: Mapping[str, str] | None = None) -> None:
        """Load `url` (with extra request headers for every request of the page) until its load event."""
        self.call("Page.enable")
        if headers:
            self.call("Network.enable")
            self.call("Network.setExtraHTTPHeaders", headers=dict(headers))
        navigated = self.call("Page.navigate", url=url)
        if navigated.get("errorText"):
            raise BrowserError(f"{url}: {navigated['errorText']}")
        deadline = time.monotonic() + self.timeout
        while self.receive(deadline).get("method") != "Page.loadEventFired":
            pass

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise BrowserError(f"the page's script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def styles(self, wanted: Mapping[str, Sequence[str]]) -> dict[str, Any]:
        """{sheets, styled, unstyled}: the loaded stylesheets and each selector's computed properties."""
        value: dict[str, Any] = self.evaluate(STYLES_SCRIPT % json.dumps({k: list(v) for k, v in wanted.items()}))
        return value


def devtools_port(user_data: Path, process: subprocess.Popen[bytes], timeout: float) -> int:
    marker = user_data / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BrowserError(f"Chromium exited with {process.returncode} before it listened")
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int(marker.read_text().splitlines()[0])
        time.sleep(0.1)
    raise BrowserError(f"Chromium did not open its DevTools port within {timeout:g}s")


# Chromium puts a Unix socket under TMPDIR (.org.chromium.Chromium.XXXXXX/SingletonSocket), and a socket's path
# holds at most 107 bytes: under a long TMPDIR (invoke ci gives each job one deep in its run folder) it aborts.
LONGEST_TEMP_ROOT = 48


def short_temp_root() -> str:
    root = tempfile.gettempdir()
    return root if len(root) <= LONGEST_TEMP_ROOT else "/tmp"  # noqa: S108  # nosec B108 -- the system's own


@contextlib.contextmanager
def chromium(binary: str, timeout: float = 30) -> Iterator[Page]:
    """A headless Chromium with a throw-away profile (also its TMPDIR) and one page; stopped and removed afterwards."""
    user_data = Path(tempfile.mkdtemp(prefix="pipeline-chromium-", dir=short_temp_root()))
    process = subprocess.Popen(
        [binary, *FLAGS, f"--user-data-dir={user_data}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": str(user_data)},
    )
    try:
        port = devtools_port(user_data, process, timeout)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout) as response:  # nosec B310
            targets = json.loads(response.read())
        page = next(target for target in targets if target.get("type") == "page")
        with connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=timeout) as connection:
            yield Page(connection, timeout)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(user_data, ignore_errors=True)
