"""gunicorn settings, from the environment (documented in .env.example)."""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
# Only the proxy in front of the container may set X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Keep worker heartbeat files in memory, not on the container's overlay disk.
worker_tmp_dir = "/dev/shm"  # noqa: S108  # nosec B108 -- tmpfs inside the container
# No runtime control socket: the app user's home is not writable, and a
# container is managed through signals from its runtime instead.
control_socket_disable = True
