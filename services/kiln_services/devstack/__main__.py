"""`python -m kiln_services.devstack` (`make run`): the whole of Kiln on one machine, data kept in ./var.

Environment: PORT (8000), REDIS_URL (unset: an embedded Redis with AOF in ./var/redis on
KILN_REDIS_PORT, default 6390, or a free port), KILN_ADMIN_TOKEN (unset: made once and kept in
./var/admin_token), KILN_DEMO (1: drive the virtual LATP lab if the demo campaign does not exist),
WEB_CONCURRENCY, WORKER_CONCURRENCY, KILN_VAR (./var), KILN_ECHO_LOGS (1: show every log line),
LOG_FORMAT (text here, for people reading var/log; json is the default everywhere else), LOG_LEVEL.
"""

from __future__ import annotations

import fcntl
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from kiln_services.devstack.stack import HEALTH_PATH, OPENAPI_PATH, READY_PATH, Stack, admin_token


class Shutdown(Exception):
    """SIGTERM or SIGINT arrived."""


def _raise_shutdown(signum: int, frame: FrameType | None) -> None:
    raise Shutdown(signal.Signals(signum).name)


def _lock(var_dir: Path) -> int:
    """Hold var/devstack.lock so two `make run`s never share one Redis data directory."""
    var_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(var_dir / "devstack.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit(f"devstack: another `make run` is using {var_dir}; stop it first")
    return fd


#: The multi-objective demo campaign (conductivity and relative density, the latp-moo preset).
MOO_DEMO_NAME = "latp-moo-demo"


def run_demo_once(stack: Stack) -> None:
    """Run the instrument's four iterations unless the demo campaign already exists; then two
    iterations of the multi-objective demo (latp-moo) unless that one exists."""
    from kiln.lab import VirtualLatpLab
    from kiln_client.client import Client, ClientError
    from kiln_client.demo import DEMO_NAME, find_campaign, run_demo

    client = Client(stack.base_url, stack.admin_token)
    try:
        existing = find_campaign(client, DEMO_NAME)
        if existing is not None:
            print(
                f"Demo campaign {DEMO_NAME!r} ({existing['id']}) already exists: not re-running it."
                " `make demo` continues it for four more iterations."
            )
        else:
            print("\nThe virtual LATP lab now drives four closed-loop iterations over HTTP.")
            run_demo(client, VirtualLatpLab())
            print("\nDemo done. `make demo` continues it; the stack keeps serving.")
        if find_campaign(client, MOO_DEMO_NAME) is None:
            print("\nConductivity and density together (latp-moo): two iterations, EHVI batches.")
            run_demo(client, VirtualLatpLab(), iterations=2, name=MOO_DEMO_NAME, preset="latp-moo")
            moo = find_campaign(client, MOO_DEMO_NAME) or {}
            print(
                f"\nIts Pareto front: GET {stack.base_url}/api/v1/campaigns/{moo.get('id')}/pareto"
            )
    except ClientError as exc:
        print(f"devstack: the demo failed: {exc}\n{stack.logs()}", file=sys.stderr)


def main() -> int:
    var_dir = Path(os.environ.get("KILN_VAR", "var")).resolve()
    port = int(os.environ.get("PORT", "8000"))
    lock = _lock(var_dir)
    # People read these logs; deployments (and the tests' stacks) ship JSON lines to a collector.
    os.environ.setdefault("LOG_FORMAT", "text")
    token, token_source = admin_token(var_dir)
    stack = Stack(
        var_dir,
        port=port,
        redis_url=os.environ.get("REDIS_URL") or None,
        admin_token=token,
        echo=os.environ.get("KILN_ECHO_LOGS", "0") == "1",
    )
    signal.signal(signal.SIGTERM, _raise_shutdown)
    signal.signal(signal.SIGINT, _raise_shutdown)
    try:
        stack.start()
        redis_note = (
            f"embedded, AOF appendfsync always, data in {stack.redis.data_dir}"
            if stack.redis
            else "from REDIS_URL"
        )
        print(
            "Kiln dev stack\n"
            f"  API           {stack.base_url}/api/v1\n"
            f"  OpenAPI       {stack.base_url}{OPENAPI_PATH}\n"
            f"  Health        {stack.base_url}{HEALTH_PATH}   ready: {stack.base_url}{READY_PATH}\n"
            f"  Redis         {stack.redis_url} ({redis_note})\n"
            f"  Admin token   {token}   (from {token_source})\n"
            f"  Logs          {stack.log_dir}/intake.log, worker.log, access.log\n"
            "Waiting for the intake and a worker to be ready… (Ctrl-C stops everything)",
            flush=True,
        )
        took = stack.wait_ready()
        print(f"Ready in {took:.1f} s: {stack.base_url}{READY_PATH} answers 200", flush=True)
        if os.environ.get("KILN_DEMO", "0") == "1":
            run_demo_once(stack)
        print("Serving. Ctrl-C stops everything.", flush=True)
        while True:
            dead = stack.dead_child()
            if dead is not None:
                print(
                    f"devstack: {dead.name} exited; last lines of {dead.log_path}:\n"
                    + "\n".join(dead.tail),
                    file=sys.stderr,
                )
                return 1
            time.sleep(1)
    except Shutdown as why:
        print(f"\n{why}: stopping the intake, the worker and Redis…", flush=True)
        return 0
    except (RuntimeError, TimeoutError) as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 1
    finally:
        # A second Ctrl-C must not cut the clean-up short; stop() is bounded by its timeouts.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        os.close(lock)
        print("Stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
