"""Intake throughput: results posted to gunicorn + Redis against a no-op Flask ceiling.

Starts a real redis-server (a free port, AOF with appendfsync always, as `make run`), the intake
under gunicorn with deploy/gunicorn.conf.py exactly as devstack.Stack starts it, and a no-op
Flask app (bench/noop_app.py) under the same gunicorn settings on the same URL. No Celery
worker runs: each post still enqueues its (coalesced) refit, but no fit competes for the cores.

Then, on loopback, locust (headless, in its own process) posts single results, each under a new
sample_id (validated, stored, refit requested), with a write token limited to the campaign:

1. back to back: N users posting as fast as answers come (the throughput), no-op and intake
   interleaved, repeated, medians quoted; the ratio is taken from the same run;
2. fixed rate: users paced by locust's constant throughput to 1,000 requests/s in total
   (or the rate reached when the machine cannot sustain it), p50/p99 latency;
3. a 10,000-row CSV (text/csv) posted to a new campaign, timed end to end by the client.

When a target is missed the post path is profiled in-process with pyinstrument (the same app
against the same Redis, through Flask's test client) into bench/results/intake-profile*.txt.

Writes bench/results/intake.json and intake.png. Run: ``make bench-intake`` (or
``.venv/bin/python bench/intake.py --seconds 5 --repeats 1`` for a quick look).
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
import json
import logging
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import machine
import requests

from kiln.lab import VirtualLatpLab
from kiln_services.devstack.redis_server import (
    RedisServer,
    free_port,
    own_session_dying_with_parent,
)
from kiln_services.devstack.stack import HEALTH_PATH, Stack

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results"
LOCUSTFILE = BENCH_DIR / "locustfile.py"
API = "/api/v1"

TARGET_RATIO = 0.5  # intake throughput >= 50 % of the no-op ceiling
TARGET_RATE = 1000.0  # requests/s of the fixed-rate run
TARGET_P99_MS = 50.0  # p99 at that rate
TARGET_CSV_S = 2.0  # a 10,000-row CSV stored


def log(message: str) -> None:
    print(message, flush=True)


class Gunicorn:
    """A gunicorn server started as devstack.Stack starts the intake, its output in a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path) -> None:
        self.name, self.argv, self.env, self.log_path = name, argv, env, log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Gunicorn:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=BENCH_DIR.parent,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=own_session_dying_with_parent,
            )
        return self

    def wait_healthy(self, url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log_path}")
            try:
                if requests.get(url + HEALTH_PATH, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} did not answer {url}{HEALTH_PATH} in {timeout:.0f} s")

    def pids(self) -> list[int]:
        return machine.process_tree(self.process.pid) if self.process else []

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


@contextmanager
def servers(var_dir: Path, admin: str) -> Iterator[dict[str, Any]]:
    """Redis, the intake and the no-op ceiling, each on its own free port; stopped on exit."""
    redis_server = RedisServer(var_dir / "redis", free_port(), new_session=True)
    assert redis_server.port != 6379
    started: list[Gunicorn] = []
    try:
        redis_server.start()
        out: dict[str, Any] = {"redis": redis_server}
        for name in ("intake", "noop"):
            stack = Stack(
                var_dir / name, port=free_port(), redis_url=redis_server.url, admin_token=admin
            )
            argv = stack.intake_argv()
            if name == "noop":  # the same server and settings, another app
                argv[argv.index("kiln_services.intake:create_app()")] = "noop_app:create_app()"
                argv += ["--pythonpath", str(BENCH_DIR)]
            server = Gunicorn(name, argv, stack.env, stack.log_dir / f"{name}.log").start()
            started.append(server)
            out[name] = {"server": server, "url": stack.base_url}
        for name in ("intake", "noop"):
            out[name]["server"].wait_healthy(out[name]["url"])
        yield out
    finally:
        for server in started:
            server.stop()
        redis_server.stop()


def campaign_with_token(url: str, admin: str, name: str) -> tuple[str, str]:
    """A new LATP campaign and a write token limited to it (what an instrument holds)."""
    auth = {"Authorization": f"Bearer {admin}"}
    response = requests.post(
        f"{url}{API}/campaigns", json={"preset": "latp", "name": name}, headers=auth, timeout=10
    )
    response.raise_for_status()
    cid = response.json()["id"]
    response = requests.post(
        f"{url}{API}/tokens",
        json={"scope": "write", "name": f"bench-{name}", "campaign_id": cid},
        headers={**auth, "Idempotency-Key": secrets.token_hex(8)},
        timeout=10,
    )
    response.raise_for_status()
    return cid, response.json()["token"]


def result_bodies() -> list[dict[str, Any]]:
    """The virtual lab's 80 seed-grid results (sample_id replaced per post)."""
    return VirtualLatpLab(seed=0).seed_grid()


def run_locust(
    url: str,
    path: str,
    token: str,
    points_file: Path,
    *,
    users: int,
    rate_per_user: float,
    seconds: float,
    prefix: str,
    watch: dict[str, list[int]],
) -> dict[str, Any]:
    """One headless locust run; requests/s and percentiles over the steady part (after ramp-up).

    `watch` names process groups whose CPU use during the run is reported (cores busy).
    """
    with tempfile.TemporaryDirectory() as tmp:
        stats_prefix = Path(tmp) / "run"
        env = {
            **os.environ,
            "KILN_BENCH_PATH": path,
            "KILN_BENCH_TOKEN": token,
            "KILN_BENCH_POINTS": str(points_file),
            "KILN_BENCH_RATE": str(rate_per_user),
            "KILN_BENCH_PREFIX": prefix,
        }
        argv = [
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
            "--host", url, "--users", str(users), "--spawn-rate", str(users),
            "--run-time", f"{seconds:g}s", "--reset-stats", "--only-summary",
            "--csv", str(stats_prefix), "--loglevel", "WARNING",
        ]  # fmt: skip
        before = {name: machine.cpu_seconds(pids) for name, pids in watch.items()}
        started = time.monotonic()
        generator = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=BENCH_DIR
        )
        output, _ = generator.communicate(timeout=seconds + 60)
        wall = time.monotonic() - started
        # The load generator has exited: its CPU time is in our children's rusage.
        generator_cpu = _children_cpu()
        after = {name: machine.cpu_seconds(pids) for name, pids in watch.items()}
        text = output.decode(errors="replace")
        with open(f"{stats_prefix}_stats.csv") as fh:
            rows = list(csv.DictReader(fh))
    total = next(r for r in rows if r["Name"] == "Aggregated")
    count, failures = int(total["Request Count"]), int(total["Failure Count"])
    return {
        "users": users,
        "offered_rate": users * rate_per_user if rate_per_user else None,
        "requests": count,
        "failures": failures,
        "rps": float(total["Requests/s"]),
        "p50_ms": _ms(total["50%"]),
        "p99_ms": _ms(total["99%"]),
        "mean_ms": float(total["Average Response Time"]),
        "max_ms": float(total["Max Response Time"]),
        # The servers idle while locust starts: their CPU is spread over the run time itself.
        "cores_busy": {name: (after[name] - before[name]) / seconds for name in watch},
        "generator_cores": generator_cpu / wall,
        "generator_cpu_warning": "CPU usage above" in text,
        "errors": [line for line in text.splitlines() if "Error" in line or "failure" in line][:5],
    }


_children_seen = 0.0


def _children_cpu() -> float:
    """CPU seconds of children reaped since the last call."""
    global _children_seen
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    delta, _children_seen = total - _children_seen, total
    return delta


def _ms(text: str) -> float | None:
    return None if text in ("", "N/A") else float(text)


def csv_body(rows: int, bodies: list[dict[str, Any]], prefix: str) -> str:
    """A LIMS-style CSV export: sample_id, the parameters, the objective, a measurement."""
    out = io.StringIO()
    writer = csv.writer(out)
    names = list(bodies[0]["parameters"])
    writer.writerow(["sample_id", *names, "conductivity", "relative_density"])
    for i in range(rows):
        body = bodies[i % len(bodies)]
        writer.writerow(
            [
                f"{prefix}-{i:05d}",
                *(body["parameters"][n] for n in names),
                repr(body["objective"]),
                repr(body["measurements"]["relative_density"]),
            ]
        )
    return out.getvalue()


def post_csv(url: str, admin: str, rows: int, bodies: list[dict[str, Any]], run: int) -> dict:
    """Post a `rows`-row CSV to a new campaign; the client's wall time until the 201."""
    cid, token = campaign_with_token(url, admin, f"bench-csv-{run}")
    text = csv_body(rows, bodies, f"CSV{run}")
    started = time.perf_counter()
    response = requests.post(
        f"{url}{API}/campaigns/{cid}/results",
        data=text.encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
        timeout=120,
    )
    seconds = time.perf_counter() - started
    if response.status_code != 201 or response.json()["stored"] != rows:
        raise RuntimeError(f"CSV post: HTTP {response.status_code}: {response.text[:300]}")
    return {"rows": rows, "bytes": len(text), "seconds": seconds, "campaign_id": cid}


def intake_package() -> Any:
    """The intake package itself: this script's directory (sys.path[0]) holds a namesake."""
    saved = sys.path[:]
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH_DIR]
    try:
        return importlib.import_module("kiln_services.intake")
    finally:
        sys.path[:] = saved


def profile_post_path(
    redis_url: str, admin: str, bodies: list[dict[str, Any]], out: Path
) -> dict[str, Any]:
    """Profile the intake's post path in-process (Flask's test client, the bench's Redis).

    - CPU per post, intake against the no-op app, in this one process;
    - py-spy sampling this process (CPU samples: idle waits on Redis are left out), summarised
      into intake-profile-cpu.txt;
    - pyinstrument (wall clock, so Redis waits show) over the same posts and over one
      10,000-row CSV: intake-profile-single.txt, intake-profile-csv.txt.
    """
    from pyinstrument import Profiler

    logging.disable(logging.INFO)  # no access line per profiled request on the screen
    try:
        app = intake_package().create_app({"REDIS_URL": redis_url, "KILN_ADMIN_TOKEN": admin})
        client = app.test_client()
        auth = {"Authorization": f"Bearer {admin}"}
        created = client.post(
            f"{API}/campaigns", json={"preset": "latp", "name": "profile"}, headers=auth
        )
        cid = created.get_json()["id"]
        token = client.post(
            f"{API}/tokens",
            json={"scope": "write", "name": "profile", "campaign_id": cid},
            headers={**auth, "Idempotency-Key": secrets.token_hex(8)},
        ).get_json()["token"]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        path = f"{API}/campaigns/{cid}/results"
        noop = noop_app().create_app().test_client()

        def posts(target: Any, tag: str, n: int) -> float:
            """CPU seconds per post of `n` new results."""
            payloads = [
                json.dumps({**bodies[i % len(bodies)], "sample_id": f"{tag}{i}"}) for i in range(n)
            ]
            started = time.process_time()
            for payload in payloads:
                response = target.post(path, data=payload, headers=headers)
                assert response.status_code == 201, response.get_data(as_text=True)[:300]
            return (time.process_time() - started) / n

        posts(client, "W", 100)  # warm-up: imports, connections, caches
        posts(noop, "W", 100)
        cpu = {"intake": [], "noop": []}
        for k in range(3):
            cpu["intake"].append(posts(client, f"C{k}-", 500))
            cpu["noop"].append(posts(noop, f"C{k}-", 500))
        sampled = py_spy_profile(lambda: posts(client, "S", 3000), out / "intake-profile-cpu.txt")
        profiler = Profiler(interval=0.0005)
        profiler.start()
        posts(client, "P", 2000)
        profiler.stop()
        (out / "intake-profile-single.txt").write_text(
            profiler.output_text(unicode=True, color=False, show_all=False)
        )
        text = csv_body(10_000, bodies, "PCSV")
        profiler = Profiler(interval=0.001)
        profiler.start()
        response = client.post(path, data=text, headers={**headers, "Content-Type": "text/csv"})
        profiler.stop()
        assert response.status_code == 201, response.get_data(as_text=True)[:300]
        (out / "intake-profile-csv.txt").write_text(
            profiler.output_text(unicode=True, color=False, show_all=False)
        )
    finally:
        logging.disable(logging.NOTSET)
    files = ["intake-profile-single.txt", "intake-profile-csv.txt"]
    return {
        "cpu_ms_per_post": {k: 1000 * min(v) for k, v in cpu.items()},
        "files": (["intake-profile-cpu.txt"] if sampled else []) + files,
    }


def noop_app() -> Any:
    """bench/noop_app.py as a module (this script's directory is on sys.path)."""
    return importlib.import_module("noop_app")


def py_spy_profile(work: Any, path: Path) -> bool:
    """Run `work()` while py-spy samples this process; write a summary to `path`."""
    py_spy = Path(sys.executable).with_name("py-spy")
    if not py_spy.exists():
        return False
    raw = path.with_suffix(".raw")
    sampler = subprocess.Popen(
        [str(py_spy), "record", "--pid", str(os.getpid()), "--nonblocking", "--rate", "500",
         "--format", "raw", "--output", str(raw)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(1.0)  # attached
    try:
        work()
    finally:
        sampler.send_signal(signal.SIGINT)  # py-spy writes its samples on Ctrl-C
        sampler.wait(timeout=30)
    if not raw.exists():
        return False
    path.write_text(summarise_samples(raw.read_text()))
    raw.unlink()
    return True


def summarise_samples(raw: str) -> str:
    """Where the post path's CPU samples fall: Kiln's own frames inclusive, then the hottest
    leaves. Samples waiting in a socket (Redis replies) are counted apart."""
    import collections
    import re

    waiting = re.compile(r"_read_from_socket|sendall|select \(selectors")
    inclusive: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    on_cpu = in_socket = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [re.sub(r":\d+\)", ")", f) for f in stack.split(";")]
        if not any("Client.open" in f for f in frames):
            continue  # not a request (the sampler, the loop)
        n = int(count)
        if waiting.search(frames[-1]):
            in_socket += n
            continue
        on_cpu += n
        for frame in set(frames):
            inclusive[frame] += n
        leaves[frames[-1]] += n
    ours = re.compile(r"\((intake|store|kiln)/|Flask\.(preprocess|process)_request|Schema\.load")
    lines = [
        "py-spy samples of POST .../results in-process (Flask test client, real Redis)",
        f"{on_cpu} samples on CPU; {in_socket} more waiting in a socket (left out below)",
        "",
        "inclusive share of the CPU samples (Kiln's frames, request hooks, schema loads):",
    ]
    lines += [
        f"{100 * n / on_cpu:5.1f}%  {frame}"
        for frame, n in inclusive.most_common()
        if ours.search(frame) and n / on_cpu >= 0.005
    ]
    lines += ["", "hottest leaves (self time):"]
    lines += [f"{100 * n / on_cpu:5.1f}%  {frame}" for frame, n in leaves.most_common(25)]
    return "\n".join(lines) + "\n"


def median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("rps", "p50_ms", "p99_ms", "mean_ms", "generator_cores")
    out: dict[str, Any] = {f"median_{k}": median([r[k] for r in runs]) for k in keys}
    for name in runs[0]["cores_busy"]:
        out[f"median_cores_{name}"] = median([r["cores_busy"][name] for r in runs])
    out["failures"] = sum(r["failures"] for r in runs)
    out["generator_cpu_warning"] = any(r["generator_cpu_warning"] for r in runs)
    return out


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(payload: dict[str, Any]) -> None:
    log("")
    log(f"Intake throughput on loopback ({payload['setup']})")
    log(
        f"machine: {machine.summary(payload['machine'])}; "
        f"load average after: {payload['load_average_after']}"
    )
    header = (
        f"{'run':<26} {'target':<7} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'server':>7} {'redis':>6} {'locust':>7}"
    )
    log(header)
    log("-" * len(header))
    for scenario in ("max", "fixed"):
        block = payload["scenarios"][scenario]
        for target in ("noop", "intake"):
            s = block[target]
            log(
                f"{block['label']:<26} {target:<7} {fmt(s['median_rps'], '7.0f')} "
                f"{fmt(s['median_p50_ms'], '7.0f')} {fmt(s['median_p99_ms'], '7.0f')} "
                f"{fmt(s['median_cores_server'], '7.2f')} {fmt(s['median_cores_redis'], '6.2f')} "
                f"{fmt(s['median_generator_cores'], '7.2f')}"
            )
    log("(server, redis, locust: CPU cores busy during the run; medians of the repeats)")
    csv_runs = payload["csv"]
    log(
        f"CSV, {csv_runs['rows']:,} rows ({csv_runs['bytes'] / 1024:.0f} KiB) posted to a new "
        f"campaign: median {csv_runs['median_s']:.2f} s over {len(csv_runs['seconds'])} runs "
        f"({', '.join(f'{s:.2f}' for s in csv_runs['seconds'])})"
    )
    log("")
    for check in payload["targets"]:
        log(f"{'MET ' if check['met'] else 'MISS'} {check['what']}: {check['value']}")


def plot(payload: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    colors = {"noop": "#9e9e9e", "intake": "#c0392b"}
    scen = payload["scenarios"]
    ax = axes[0]
    for i, target in enumerate(("noop", "intake")):
        runs = scen["max"]["runs"][target]
        ax.bar(i, scen["max"][target]["median_rps"], color=colors[target], alpha=0.8)
        ax.plot([i] * len(runs), [r["rps"] for r in runs], "k.", ms=6)
    ax.set_xticks([0, 1], ["no-op ceiling", "intake"])
    ax.set_ylabel("requests/s (back to back)")
    ax.set_title(f"throughput, {scen['max']['users']} users")
    ax = axes[1]
    width = 0.2
    for j, (scenario, label) in enumerate((("max", "back to back"), ("fixed", "fixed rate"))):
        for k, target in enumerate(("noop", "intake")):
            s = scen[scenario][target]
            x = j + (k - 0.5) * 2 * width
            ax.bar(x - width / 2, s["median_p50_ms"] or 0, width, color=colors[target], alpha=0.5)
            ax.bar(x + width / 2, s["median_p99_ms"] or 0, width, color=colors[target])
        ax.text(j, 0, label, ha="center", va="bottom", fontsize=8)
    ax.axhline(TARGET_P99_MS, color="k", ls="--", lw=1)
    ax.set_xticks([0, 1], ["back to back", f"{scen['fixed']['offered_rate']:.0f}/s offered"])
    ax.set_ylabel("latency ms (light: p50, dark: p99)")
    ax.set_title("latency; dashed: p99 target")
    ax = axes[2]
    seconds = payload["csv"]["seconds"]
    ax.plot(range(1, len(seconds) + 1), seconds, "o-", color=colors["intake"])
    ax.axhline(TARGET_CSV_S, color="k", ls="--", lw=1)
    ax.set_ylim(0, max([*seconds, TARGET_CSV_S]) * 1.2)
    ax.set_xlabel("run")
    ax.set_ylabel("seconds")
    ax.set_title(f"{payload['csv']['rows']:,}-row CSV post (dashed: target)")
    fig.suptitle(
        f"Kiln intake on loopback — {payload['machine']['cpus']} CPUs, load "
        f"{payload['machine']['load_average'][0]}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15, help="length of each locust run")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs per target")
    parser.add_argument("--users", type=int, default=64, help="back-to-back users")
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="fixed-rate total req/s")
    parser.add_argument("--rate-users", type=int, default=100, help="users sharing that rate")
    parser.add_argument("--csv-rows", type=int, default=10_000)
    parser.add_argument("--csv-repeats", type=int, default=5)
    parser.add_argument(
        "--profile",
        choices=("auto", "always", "never"),
        default="auto",
        help="profile the post path with pyinstrument (auto: if a target is missed)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--var-dir", type=Path, help="keep Redis data and server logs here")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    info = machine.describe()
    admin = secrets.token_urlsafe(24)
    bodies = result_bodies()
    setup = (
        f"gunicorn gthread, {os.environ.get('WEB_CONCURRENCY', '2')} processes x "
        f"{os.environ.get('GUNICORN_THREADS', '8')} threads; Redis AOF appendfsync always; "
        "locust FastHttpUser, 1 process"
    )
    log(f"bench-intake: {machine.summary(info)}")
    with tempfile.TemporaryDirectory(prefix="kiln-bench-intake-") as tmp:
        var_dir = args.var_dir.resolve() if args.var_dir else Path(tmp)
        var_dir.mkdir(parents=True, exist_ok=True)
        points_file = var_dir / "points.json"
        points_file.write_text(json.dumps(bodies))
        with servers(var_dir, admin) as up:
            watch = {
                "noop": {"server": up["noop"]["server"].pids(), "redis": [up["redis"].process.pid]},
                "intake": {
                    "server": up["intake"]["server"].pids(),
                    "redis": [up["redis"].process.pid],
                },
            }
            cid, token = campaign_with_token(up["intake"]["url"], admin, "bench-intake")
            path = f"{API}/campaigns/{cid}/results"
            scenarios: dict[str, Any] = {
                "max": {
                    "label": f"back to back, {args.users} users",
                    "users": args.users,
                    "rate_per_user": 0.0,
                    "offered_rate": None,
                },
                "fixed": {
                    "label": f"{args.rate:.0f}/s offered, {args.rate_users} users",
                    "users": args.rate_users,
                    "rate_per_user": args.rate / args.rate_users,
                    "offered_rate": args.rate,
                },
            }
            _children_cpu()
            plan = [
                (scenario, repeat, target)
                for scenario in scenarios
                for repeat in range(args.repeats)
                for target in (("noop", "intake") if repeat % 2 == 0 else ("intake", "noop"))
            ]
            for scenario in scenarios.values():
                scenario["runs"] = {"noop": [], "intake": []}
            for step, (name, repeat, target) in enumerate(plan, start=1):
                scenario = scenarios[name]
                run = run_locust(
                    up[target]["url"],
                    path,
                    token,
                    points_file,
                    users=scenario["users"],
                    rate_per_user=scenario["rate_per_user"],
                    seconds=args.seconds,
                    prefix=f"{name}{repeat}",
                    watch=watch[target],
                )
                scenario["runs"][target].append(run)
                log(
                    f"[{step}/{len(plan)}] {scenario['label']}, {target:<6} "
                    f"{run['rps']:7.0f} req/s  p50 {fmt(run['p50_ms'], '.0f')} ms  "
                    f"p99 {fmt(run['p99_ms'], '.0f')} ms  failures {run['failures']}  "
                    f"(server {run['cores_busy']['server']:.2f}, redis "
                    f"{run['cores_busy']['redis']:.2f}, locust {run['generator_cores']:.2f} cores)"
                    + ("  [locust CPU > 90 %]" if run["generator_cpu_warning"] else "")
                )
            for scenario in scenarios.values():
                for target in ("noop", "intake"):
                    scenario[target] = summarise(scenario["runs"][target])
            csv_runs = []
            for run in range(args.csv_repeats):
                outcome = post_csv(up["intake"]["url"], admin, args.csv_rows, bodies, run)
                csv_runs.append(outcome)
                log(
                    f"[CSV {run + 1}/{args.csv_repeats}] {args.csv_rows:,} rows stored in "
                    f"{outcome['seconds']:.2f} s"
                )

            ratios = [
                i["rps"] / n["rps"]
                for i, n in zip(
                    scenarios["max"]["runs"]["intake"],
                    scenarios["max"]["runs"]["noop"],
                    strict=True,
                )
            ]
            ratio = statistics.median(ratios)
            fixed = scenarios["fixed"]["intake"]
            csv_median = statistics.median(r["seconds"] for r in csv_runs)
            reached = fixed["median_rps"]
            targets = [
                {
                    "what": f"intake >= {TARGET_RATIO:.0%} of the no-op ceiling (back to back)",
                    "met": ratio >= TARGET_RATIO,
                    "value": f"{ratio:.0%} (per-repeat ratios "
                    + ", ".join(f"{r:.0%}" for r in ratios)
                    + ")",
                },
                {
                    "what": f"p99 < {TARGET_P99_MS:.0f} ms at {args.rate:.0f} req/s",
                    "met": bool(
                        fixed["median_p99_ms"] is not None
                        and fixed["median_p99_ms"] < TARGET_P99_MS
                        and reached >= 0.97 * args.rate
                    ),
                    "value": f"p99 {fmt(fixed['median_p99_ms'], '.0f')} ms at "
                    f"{reached:.0f} req/s reached of {args.rate:.0f} offered",
                },
                {
                    "what": f"{args.csv_rows:,}-row CSV stored in < {TARGET_CSV_S:.0f} s",
                    "met": csv_median < TARGET_CSV_S,
                    "value": f"median {csv_median:.2f} s",
                },
            ]
            missed = not all(t["met"] for t in targets)
            profiled = args.profile == "always" or (args.profile == "auto" and missed)
            profile: dict[str, Any] = {}
            if profiled:
                log("a target is missed: profiling the post path in-process (py-spy, pyinstrument)")
                profile = profile_post_path(up["redis"].url, admin, bodies, args.out)
                log(
                    "CPU per post in-process: intake "
                    f"{profile['cpu_ms_per_post']['intake']:.2f} ms, no-op "
                    f"{profile['cpu_ms_per_post']['noop']:.2f} ms; see "
                    + ", ".join(str(args.out / f) for f in profile["files"])
                )
    payload = {
        "benchmark": "intake",
        "setup": setup,
        "machine": info,
        "load_average_after": machine.load_average(),
        "seconds_per_run": args.seconds,
        "repeats": args.repeats,
        "scenarios": scenarios,
        "ratio_intake_to_noop": ratio,
        "csv": {
            "rows": args.csv_rows,
            "bytes": csv_runs[0]["bytes"],
            "seconds": [r["seconds"] for r in csv_runs],
            "median_s": csv_median,
        },
        "targets": targets,
        "profile": profile,
    }
    (args.out / "intake.json").write_text(json.dumps(payload, indent=2) + "\n")
    plot(payload, args.out / "intake.png")
    print_table(payload)
    log(f"wrote {args.out / 'intake.json'} and {args.out / 'intake.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
