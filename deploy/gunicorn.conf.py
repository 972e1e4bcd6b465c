"""gunicorn settings for the intake: `gunicorn 'kiln_services.intake:create_app()' -c deploy/gunicorn.conf.py`.

Read from the environment: PORT (8000), WEB_CONCURRENCY (2 processes), GUNICORN_THREADS (8),
LOG_FORMAT (json or text), LOG_LEVEL (info) and PROMETHEUS_MULTIPROC_DIR (a fresh temporary
directory when unset). Command-line flags override these (make run binds to 127.0.0.1 and logs
gunicorn's own access lines to a file).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from kiln_services import logs

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

# Threads, because a long-poll (GET …/proposals/latest?wait=S) holds its thread while it waits.
# So that waiting clients never hold them all, the intake lets at most KILN_LONG_POLL_SLOTS of
# them wait per process (default: half the threads) and answers the next 429 + Retry-After; the
# other half of the threads stays free for result posts and health checks (intake/longpoll.py,
# tests/faults/test_fault_slow_consumers.py). Not gevent: the intake also does CPU work (large
# CSV posts, model slices) that would stall every greenlet of a process.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))

# Longer than the longest long-poll (60 s) the API accepts, so a waiting request is never killed.
timeout = 90
# On SIGTERM, give in-flight requests (including long-polls) this long to finish.
graceful_timeout = 15
keepalive = 5

# Bodies are capped by the intake itself; these only bound header abuse.
limit_request_line = 8190
limit_request_fields = 100

# Every line, the app's and gunicorn's, goes to stderr through the root logger: one JSON object
# per line (LOG_FORMAT=json, the default) or text. The app writes an access line of its own
# (intake.access: method, path, status, duration, token name, request id), so gunicorn's
# would only repeat it in JSON; in text it stays, as before.
_log_format = logs.log_format()
logconfig_dict = logs.dict_config(_log_format, logs.log_level())
accesslog = None if _log_format == "json" else "-"
errorlog = "-"
loglevel = logs.log_level().lower()
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'

# prometheus-client's multiprocess mode: each worker process writes its request counters to files
# in this directory and /metrics sums them all, whichever process answers the scrape. Set here,
# before the workers fork (they inherit it) and import the app (preload_app is off).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="kiln-metrics-")


def on_starting(server: Any) -> None:
    """Start the metrics from zero: files left by an earlier run would be counted again."""
    path = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):  # only prometheus-client's files, whatever else is there
        stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """A worker process is gone: its counters stay in the sum, its live gauges are dropped."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


# Each worker process builds its own app: no Redis connection or thread crosses a fork.
preload_app = False
# gunicorn >= 23 opens a control socket in $HOME by default; several servers on one host would
# share that path, and the container user's home is read-only. Nothing here uses gunicornc.
control_socket_disable = True
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
