"""A throwaway PostgreSQL server from the local binaries, for the test suite.

initdb into a temporary folder, listen on a free 127.0.0.1 port, trust auth,
fsync off; stopped and deleted when the context ends, also on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from pipeline import processes
from pipeline.errors import UserError

SEARCH_GLOB = "/usr/lib/postgresql/*/bin"
UNPRIVILEGED_USER = "postgres"
REQUIRED_TOOLS = ("initdb", "pg_ctl", "createdb")


def find_bin_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The folder holding initdb and pg_ctl: $PG_BIN, then PATH, then Debian's layout."""
    env = os.environ if environ is None else environ
    if env.get("PG_BIN"):  # the user's choice: that folder or an error, never another PostgreSQL
        chosen = Path(env["PG_BIN"])
        if all((chosen / tool).is_file() for tool in REQUIRED_TOOLS):
            return chosen
        raise UserError(
            f"PG_BIN={chosen} does not hold the PostgreSQL server binaries ({', '.join(REQUIRED_TOOLS)})",
            "point PG_BIN at the folder that has them (Debian: /usr/lib/postgresql/<version>/bin), or unset it",
        )
    candidates: list[Path] = []
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    candidates.extend(sorted(Path("/").glob(SEARCH_GLOB.lstrip("/")), reverse=True))
    for candidate in candidates:
        if all((candidate / tool).is_file() for tool in REQUIRED_TOOLS):
            return candidate
    raise UserError(
        "No PostgreSQL server binaries (initdb, pg_ctl) were found",
        "install them (Debian: apt-get install postgresql) or point PG_BIN at their folder, "
        "or set DATABASE_URL to a running server and use `nox -s tests` instead",
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_as(user: str | None) -> list[str]:
    """PostgreSQL refuses to run as root: drop to an unprivileged user when we are root."""
    if os.geteuid() != 0:
        return []
    if user is None:
        raise UserError(
            "PostgreSQL cannot run as root and there is no 'postgres' user to run it as",
            "create one (useradd --system postgres) or run the tests as a normal user",
        )
    return ["runuser", "-u", user, "--"]


def _run(command: list[str]) -> processes.Completed:
    return processes.run(command)


@contextlib.contextmanager
def throwaway_postgres(database: str = "backend_test") -> Iterator[str]:
    """Start a private server; yield its DATABASE_URL; stop and delete it afterwards."""
    bin_dir = find_bin_dir()
    try:
        user: str | None = pwd.getpwnam(UNPRIVILEGED_USER).pw_name
    except KeyError:
        user = None
    prefix = _run_as(user)
    workdir = Path(tempfile.mkdtemp(prefix="throwaway-pg-"))
    data_dir = workdir / "data"
    if prefix and user is not None:
        shutil.chown(workdir, user=user)
    port = free_port()
    with processes.interrupt_on_termination():  # `timeout` or a closed terminal: the server is stopped too
        try:
            initdb = _run(
                [*prefix, str(bin_dir / "initdb"), "-D", str(data_dir), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
            )
            if initdb.returncode:
                raise UserError(f"initdb failed: {initdb.stderr.strip()}", "check the PostgreSQL installation")
            log = workdir / "log"
            options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
            start = _run(
                [
                    *prefix,
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data_dir),
                    "-o",
                    options,
                    "-l",
                    str(log),
                    "-w",
                    "start",
                ]
            )
            if start.returncode:
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise UserError(f"PostgreSQL did not start: {start.stderr.strip()} {tail}", "check the log above")
            created = _run(
                [*prefix, str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", database]
            )
            if created.returncode:
                raise UserError(f"createdb failed: {created.stderr.strip()}", "check the PostgreSQL installation")
            yield f"postgres://postgres@127.0.0.1:{port}/{database}"
        finally:
            if (data_dir / "postmaster.pid").exists():
                processes.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-m", "immediate", "-w", "stop"])
            shutil.rmtree(workdir, ignore_errors=True)
