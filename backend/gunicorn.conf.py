"""gunicorn settings, read from the environment by ops.serving (documented in .env.example)."""

from ops import env, serving

_reader = env.Reader()
_serving = serving.read(_reader)
if _reader.problems:  # check_config lists these first; with STARTUP_CHECKS=none this is where they stop
    raise SystemExit("gunicorn: " + " ".join(str(problem) for problem in _reader.problems))

bind = f"0.0.0.0:{_serving.port}"
workers = _serving.workers
threads = _serving.threads
timeout = _serving.timeout
graceful_timeout = _serving.graceful_timeout
# Only the proxy in front of the container may set X-Forwarded-* headers.
forwarded_allow_ips = _serving.forwarded_allow_ips
accesslog = "-"
errorlog = "-"
loglevel = _serving.log_level
# Keep worker heartbeat files in memory, not on the container's overlay disk.
worker_tmp_dir = "/dev/shm"  # noqa: S108  # nosec B108 -- tmpfs inside the container
# No runtime control socket: the app user's home is not writable, and a
# container is managed through signals from its runtime instead.
control_socket_disable = True


def when_ready(server: object) -> None:
    print(_serving.line, flush=True)
