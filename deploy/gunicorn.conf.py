"""gunicorn settings for the intake: `gunicorn 'intake:create_app()' -c deploy/gunicorn.conf.py`.

Read from the environment: PORT (8000), WEB_CONCURRENCY (2 processes), GUNICORN_THREADS (8).
Command-line flags override these (make run binds to 127.0.0.1 and logs access to a file).
"""

from __future__ import annotations

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))

# Threads, because a long-poll (GET …/proposals/latest?wait=S) holds its thread while it waits:
# each process serves `threads` waiting clients at once without blocking the others.
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

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'

# Each worker process builds its own app: no Redis connection or thread crosses a fork.
preload_app = False
# gunicorn >= 23 opens a control socket in $HOME by default; several servers on one host would
# share that path, and the container user's home is read-only. Nothing here uses gunicornc.
control_socket_disable = True
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
