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
import json
import os
import secrets
import statistics
import tempfile
from pathlib import Path
from typing import Any

import machine
from harness.report import dash, header, log, publish
from intake_load import children_cpu, post_csv, result_bodies, run_locust
from intake_profile import profile_post_path
from intake_report import (
    TARGET_CSV_S,
    TARGET_P99_MS,
    TARGET_RATE,
    TARGET_RATIO,
    plot,
    print_table,
    summarise,
)
from intake_servers import API, campaign_with_token, servers

RESULTS = Path(__file__).resolve().parent / "results"
TARGETS = ("noop", "intake")


def parse_args() -> argparse.Namespace:
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
    return parser.parse_args()


def scenarios_of(args: argparse.Namespace) -> dict[str, Any]:
    """Back to back (the throughput) and paced to a fixed total rate (the latency)."""
    return {
        "max": {
            "label": f"back to back, {args.users} users",
            "users": args.users,
            "rate_per_user": 0.0,
            "offered_rate": None,
            "runs": {"noop": [], "intake": []},
        },
        "fixed": {
            "label": f"{args.rate:.0f}/s offered, {args.rate_users} users",
            "users": args.rate_users,
            "rate_per_user": args.rate / args.rate_users,
            "offered_rate": args.rate,
            "runs": {"noop": [], "intake": []},
        },
    }


def run_scenarios(
    args: argparse.Namespace, up: dict[str, Any], token: str, path: str, points_file: Path
) -> dict[str, Any]:
    """Every scenario's repeats, no-op and intake interleaved (order swapped every repeat)."""
    redis_pid = [up["redis"].process.pid]
    watch = {t: {"server": up[t]["server"].pids(), "redis": redis_pid} for t in TARGETS}
    scenarios = scenarios_of(args)
    children_cpu()
    plan = [
        (scenario, repeat, target)
        for scenario in scenarios
        for repeat in range(args.repeats)
        for target in (TARGETS if repeat % 2 == 0 else TARGETS[::-1])
    ]
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
            f"{run['rps']:7.0f} req/s  p50 {dash(run['p50_ms'], '.0f')} ms  "
            f"p99 {dash(run['p99_ms'], '.0f')} ms  failures {run['failures']}  "
            f"(server {run['cores_busy']['server']:.2f}, redis "
            f"{run['cores_busy']['redis']:.2f}, locust {run['generator_cores']:.2f} cores)"
            + ("  [locust CPU > 90 %]" if run["generator_cpu_warning"] else "")
        )
    for scenario in scenarios.values():
        for target in TARGETS:
            scenario[target] = summarise(scenario["runs"][target])
    return scenarios


def run_csv(
    args: argparse.Namespace, url: str, admin: str, bodies: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The CSV post, repeated, each to a new campaign."""
    csv_runs = []
    for run in range(args.csv_repeats):
        outcome = post_csv(url, admin, args.csv_rows, bodies, run)
        csv_runs.append(outcome)
        log(
            f"[CSV {run + 1}/{args.csv_repeats}] {args.csv_rows:,} rows stored in "
            f"{outcome['seconds']:.2f} s"
        )
    return csv_runs


def targets_of(
    args: argparse.Namespace, scenarios: dict[str, Any], csv_median: float
) -> tuple[list[dict[str, Any]], float]:
    """The three targets (throughput ratio, p99 at the rate, CSV time); the median ratio."""
    max_runs = scenarios["max"]["runs"]
    ratios = [
        i["rps"] / n["rps"] for i, n in zip(max_runs["intake"], max_runs["noop"], strict=True)
    ]
    ratio = statistics.median(ratios)
    fixed = scenarios["fixed"]["intake"]
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
            "value": f"p99 {dash(fixed['median_p99_ms'], '.0f')} ms at "
            f"{reached:.0f} req/s reached of {args.rate:.0f} offered",
        },
        {
            "what": f"{args.csv_rows:,}-row CSV stored in < {TARGET_CSV_S:.0f} s",
            "met": csv_median < TARGET_CSV_S,
            "value": f"median {csv_median:.2f} s",
        },
    ]
    return targets, ratio


def maybe_profile(
    args: argparse.Namespace,
    redis_url: str,
    admin: str,
    bodies: list[dict[str, Any]],
    targets: list[dict[str, Any]],
) -> dict[str, Any]:
    """The in-process profile when a target is missed (or always / never, as asked)."""
    missed = not all(t["met"] for t in targets)
    if not (args.profile == "always" or (args.profile == "auto" and missed)):
        return {}
    log("a target is missed: profiling the post path in-process (py-spy, pyinstrument)")
    profile = profile_post_path(redis_url, admin, bodies, args.out)
    log(
        "CPU per post in-process: intake "
        f"{profile['cpu_ms_per_post']['intake']:.2f} ms, no-op "
        f"{profile['cpu_ms_per_post']['noop']:.2f} ms; see "
        + ", ".join(str(args.out / f) for f in profile["files"])
    )
    return profile


def main() -> int:
    args = parse_args()
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
            cid, token = campaign_with_token(up["intake"]["url"], admin, "bench-intake")
            path = f"{API}/campaigns/{cid}/results"
            scenarios = run_scenarios(args, up, token, path, points_file)
            csv_runs = run_csv(args, up["intake"]["url"], admin, bodies)
            csv_median = statistics.median(r["seconds"] for r in csv_runs)
            targets, ratio = targets_of(args, scenarios, csv_median)
            profile = maybe_profile(args, up["redis"].url, admin, bodies, targets)
    payload = {
        **header("intake", setup, info),
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
    publish(args.out, "intake", payload, plot, print_table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
