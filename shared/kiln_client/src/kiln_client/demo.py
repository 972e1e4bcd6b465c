"""The closed loop a lab runs against Kiln, with the virtual LATP lab standing in for the furnace.

Each step is a function of a `kiln_client.client.Client`, so the tests drive the same code against
a live stack: find or create the campaign, post the seed grid, wait for a batch, synthesise it,
post the results. ``python -m kiln_client.demo`` (``make demo``) runs four iterations.

The virtual lab is the domain's (``kiln.lab``, NumPy): it is imported only when the demo runs, so
the client installs and imports without it; ``pip install 'kiln-client[demo]'`` adds it.
Environment: KILN_URL, KILN_TOKEN (see :mod:`kiln_client.settings`), KILN_DEMO_ITERATIONS (4).
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kiln_client import settings
from kiln_client.client import Client, ClientError
from kiln_client.predictions import format_prediction

DEMO_NAME = "latp-demo"
INSTRUMENT = "virtual-latp-lab"
#: Sample ids of the demo's own syntheses: DEMO-<iteration>-<position in batch>.
DEMO_SAMPLE = re.compile(r"^DEMO-(\d+)-(\d+)$")

Print = Callable[[str], None]


@dataclass
class Iteration:
    """One closed-loop iteration: the batch Kiln proposed and what the virtual lab measured."""

    number: int
    batch: dict[str, Any]
    results: list[dict[str, Any]]
    best: dict[str, Any]
    data_version: int | None = None
    seconds_waited: float = 0.0
    proposals: list[dict[str, Any]] = field(default_factory=list)


def virtual_lab() -> Any:
    """The domain's virtual LATP lab (``kiln.lab``), or a ClientError saying how to install it."""
    try:
        from kiln.lab import VirtualLatpLab
    except ImportError as exc:
        raise ClientError(
            "the demo needs the virtual lab of the `kiln` domain package (NumPy, SciPy): "
            "install the client with its `demo` extra, or run it from the repository's .venv "
            f"(`make venv`) ({exc})"
        ) from None
    return VirtualLatpLab()


def find_campaign(client: Client, name: str = DEMO_NAME) -> dict[str, Any] | None:
    """The campaign called `name`, or None."""
    found = next((c for c in client.list_campaigns() if c.get("name") == name), None)
    return None if found is None else dict(found)


def find_or_create_campaign(
    client: Client, name: str = DEMO_NAME, preset: str = "latp"
) -> tuple[dict[str, Any], bool]:
    """The campaign called `name`, created from a preset if missing; (campaign, created)."""
    campaign = find_campaign(client, name)
    if campaign is not None:
        return campaign, False
    return dict(client.create_campaign(preset=preset, name=name)), True


def post_seed_grid(client: Client, campaign_id: str, seed_grid: Iterable[Mapping]) -> int:
    """Post the seed results the campaign does not hold yet (by sample_id); the number posted."""
    stored = {r.get("sample_id") for r in client.list_results(campaign_id)}
    missing = [dict(r) for r in seed_grid if r["sample_id"] not in stored]
    if missing:
        client.post_results(campaign_id, missing)
    return len(missing)


def pending_proposals(batch: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The proposals of a batch still waiting for a result."""
    if not batch:
        return []
    return [p for p in batch.get("proposals", []) if p.get("status", "pending") == "pending"]


def wait_for_batch(
    client: Client,
    campaign_id: str,
    *,
    min_data_version: int | None = None,
    wait: float = 30.0,
    timeout: float = 180.0,
) -> tuple[dict[str, Any], float]:
    """Long-poll until the latest batch has pending proposals made from enough data.

    Auto-batch makes a batch appear after each refit; if none appears within one long-poll, ask
    for one (POST /proposals) once. Returns (batch, seconds waited).
    """
    start = time.monotonic()
    etag: str | None = None
    first, asked = True, False
    while True:
        remaining = timeout - (time.monotonic() - start)
        if remaining <= 0:
            raise ClientError(
                f"no new batch for campaign {campaign_id} after {timeout:.0f} s; "
                "is a worker running? (GET /api/v1/readyz)"
            )
        poll_start = time.monotonic()
        # The first look is immediate (a batch may already be waiting); then long-poll on the ETag.
        latest = client.poll_proposals(
            campaign_id, etag=etag, wait=0 if first else min(wait, remaining)
        )
        batch, new_etag = latest.batch, latest.etag
        first = False
        if batch is not None:
            fresh = min_data_version is None or batch.get("data_version", 0) >= min_data_version
            if fresh and pending_proposals(batch):
                return dict(batch), time.monotonic() - start
            etag = new_etag
        if not asked and time.monotonic() - start >= wait:
            client.request_proposals(campaign_id)  # auto-batch is off or slow: ask explicitly
            asked = True
        if time.monotonic() - poll_start < 0.5:
            time.sleep(0.5)  # the server answered at once (404, or no long-poll): do not spin


def measure(
    lab: Any,
    batch: Mapping[str, Any],
    iteration: int,
    *,
    seed: int = 0,
    objectives: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Synthesise a batch's pending proposals in the virtual lab; results ready to post.

    `objectives`: a multi-objective campaign's objective names (its results post
    ``"objectives": {name: value}``); None for one objective (``"objective": value``).
    """
    import numpy as np  # the virtual lab's own dependency (the `demo` extra)

    rng = np.random.default_rng([seed, iteration])
    results = []
    for position, proposal in enumerate(pending_proposals(batch), start=1):
        results.append(
            {
                "sample_id": f"DEMO-{iteration:02d}-{position}",
                "parameters": proposal["parameters"],
                **lab_result(lab, proposal["parameters"], rng, objectives),
                "proposal_id": proposal["id"],
                "instrument": INSTRUMENT,
            }
        )
    return results


def lab_result(
    lab: Any, parameters: Mapping[str, Any], rng: Any, objectives: Sequence[str] | None = None
) -> dict[str, Any]:
    """What the virtual lab measures at `parameters`, as a campaign posts it: ``objective`` and
    ``measurements``; with `objectives` (a multi-objective campaign's names) ``objectives`` by
    name and the other quantities as ``measurements`` (kiln.lab.measure_objectives)."""
    if objectives:
        from kiln.lab import measure_objectives

        measured = measure_objectives(lab, parameters, list(objectives), rng)
        return {
            "objectives": {k: float(v) for k, v in measured["objectives"].items()},
            "measurements": {k: float(v) for k, v in measured["measurements"].items()},
        }
    measured = lab.measure(parameters, rng)
    return {
        "objective": float(measured["objective"]),
        "measurements": {k: float(v) for k, v in measured["measurements"].items()},
    }


def objective_names(campaign: Mapping[str, Any]) -> list[str] | None:
    """A multi-objective campaign's objective names; None for one objective."""
    several = campaign.get("objectives")
    return [o["name"] for o in several] if several else None


def seed_grid(lab: Any, objectives: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The lab's seed grid as a campaign posts it (re-measured by name for several objectives)."""
    grid = lab.seed_grid()
    if not objectives:
        return list(grid)
    import numpy as np

    rng = np.random.default_rng([lab.seed, 1])
    return [
        {
            "sample_id": r["sample_id"],
            "parameters": r["parameters"],
            **lab_result(lab, r["parameters"], rng, objectives),
        }
        for r in grid
    ]


def best_result(results: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The result with the highest objective (failed syntheses have none)."""
    scored = [r for r in results if r.get("objective") is not None]
    return dict(max(scored, key=lambda r: r["objective"])) if scored else {}


def completed_iterations(results: Iterable[Mapping[str, Any]]) -> int:
    """How many demo iterations the campaign already holds (from DEMO-<n>-<k> sample ids)."""
    numbers = [int(m.group(1)) for r in results if (m := DEMO_SAMPLE.match(r.get("sample_id", "")))]
    return max(numbers, default=0)


def run_iteration(
    client: Client,
    campaign_id: str,
    lab: Any,
    number: int,
    *,
    best: Mapping[str, Any],
    min_data_version: int | None = None,
    wait: float = 30.0,
    timeout: float = 180.0,
    seed: int = 0,
    objectives: Sequence[str] | None = None,
) -> Iteration:
    """Wait for a batch, synthesise it and post the results; the iteration's record.

    `objectives`: a multi-objective campaign's names (results post ``"objectives"``).
    """
    batch, waited = wait_for_batch(
        client, campaign_id, min_data_version=min_data_version, wait=wait, timeout=timeout
    )
    results = measure(lab, batch, number, seed=seed, objectives=objectives)
    answer = client.post_results(campaign_id, results)
    data_version = answer.get("data_version") if isinstance(answer, dict) else None
    return Iteration(
        number=number,
        batch=batch,
        results=results,
        best=best_result([dict(best), *results]),
        data_version=data_version,
        seconds_waited=waited,
        proposals=pending_proposals(batch),
    )


def run_demo(
    client: Client,
    lab: Any,
    *,
    iterations: int = 4,
    name: str = DEMO_NAME,
    wait: float = 30.0,
    timeout: float = 180.0,
    seed: int = 0,
    out: Print = print,
    preset: str = "latp",
) -> list[Iteration]:
    """Drive `iterations` closed-loop iterations on the demo campaign, continuing where it stopped.

    `preset` makes the campaign when it does not exist (``latp-moo``: two objectives, each
    iteration then also prints the Pareto front's hypervolume).
    """
    campaign, created = find_or_create_campaign(client, name, preset)
    campaign_id = campaign["id"]
    names = objective_names(campaign)
    out(f"{'Created' if created else 'Continuing'} campaign {name!r} ({campaign_id})")
    posted = post_seed_grid(client, campaign_id, seed_grid(lab, names))
    out(f"Seed grid: {posted} new results posted" if posted else "Seed grid: already stored")
    stored = client.list_results(campaign_id)
    best = best_result(stored)
    if not names:
        out(f"Best of {len(stored)} results so far: {format_best(best)}")
    done = completed_iterations(stored)
    min_version: int | None = len(stored)
    report = []
    for number in range(done + 1, done + iterations + 1):
        it = run_iteration(
            client,
            campaign_id,
            lab,
            number,
            best=best,
            min_data_version=min_version,
            wait=wait,
            timeout=timeout,
            seed=seed,
            objectives=names,
        )
        best = it.best
        min_version = it.data_version if it.data_version is not None else None
        if names:
            out(
                format_pareto_iteration(
                    it, names, client.get_json(f"/campaigns/{campaign_id}/pareto")
                )
            )
        else:
            out(format_iteration(it))
        report.append(it)
    return report


# -- printing -------------------------------------------------------------------------------------


def _num(value: Any) -> str:
    if isinstance(value, float) and not value.is_integer():
        return f"{value:g}"
    if isinstance(value, float):
        return f"{int(value)}"
    return str(value)


def format_best(best: Mapping[str, Any]) -> str:
    if not best:
        return "none yet"
    where = ", ".join(f"{k}={_num(v)}" for k, v in best["parameters"].items())
    return f"{best['objective']:.3e} S/cm at {where} ({best.get('sample_id')})"


def format_iteration(it: Iteration, transform: str = "log10") -> str:
    """A batch as a table: parameters, the prediction's one-std interval (on the model's
    scale), measured; then the best so far."""
    batch = it.batch
    names = list(it.proposals[0]["parameters"]) if it.proposals else []
    widths = [max(len(n), 8) for n in names]
    header = "  ".join(n.rjust(w) for n, w in zip(names, widths, strict=True))
    lines = [
        "",
        f"Iteration {it.number}: {len(it.proposals)} proposals "
        f"(model v{batch.get('model_version')}, data v{batch.get('data_version')}, "
        f"space v{batch.get('space_version')}, {batch.get('acquisition')}/"
        f"{batch.get('batch_method')}, waited {it.seconds_waited:.1f} s)",
        f"  {'sample':<10}  {header}  {'predicted S/cm (±1 std)':>23}  {'measured':>9}",
    ]
    by_id = {r["proposal_id"]: r for r in it.results}
    for proposal in it.proposals:
        result = by_id[proposal["id"]]
        values = "  ".join(
            _num(proposal["parameters"][n]).rjust(w) for n, w in zip(names, widths, strict=True)
        )
        predicted = format_prediction(
            proposal.get("predicted_mean"), proposal.get("predicted_std"), transform
        )
        lines.append(
            f"  {result['sample_id']:<10}  {values}  {predicted:>23}  {result['objective']:9.2e}"
        )
    lines.append(f"  best so far: {format_best(it.best)}")
    return "\n".join(lines)


def format_pareto_iteration(it: Iteration, names: Sequence[str], pareto: Mapping[str, Any]) -> str:
    """A multi-objective batch as a table: per objective the predicted mean and what was
    measured; then the Pareto front's size and hypervolume (GET /pareto)."""
    batch = it.batch
    lines = [
        "",
        f"Iteration {it.number}: {len(it.proposals)} proposals "
        f"(model v{batch.get('model_version')}, data v{batch.get('data_version')}, "
        f"{batch.get('acquisition')}, waited {it.seconds_waited:.1f} s)",
        f"  {'sample':<10}  " + "  ".join(f"{n + ' pred/meas':>28}" for n in names),
    ]
    by_id = {r["proposal_id"]: r for r in it.results}
    for proposal in it.proposals:
        result = by_id[proposal["id"]]
        predicted = proposal.get("predicted") or {}
        cells = []
        for n in names:
            mean = (predicted.get(n) or {}).get("mean")
            guess = "-" if mean is None else f"{mean:.3g}"
            cells.append(f"{guess + ' / ' + format(result['objectives'][n], '.3g'):>28}")
        lines.append(f"  {result['sample_id']:<10}  " + "  ".join(cells))
    hypervolume = pareto.get("hypervolume")
    volume = "none yet" if hypervolume is None else f"{hypervolume:.4g}"
    lines.append(
        f"  Pareto front: {len(pareto.get('front') or [])} of {pareto.get('n_results')} "
        f"results, hypervolume {volume}"
    )
    return "\n".join(lines)


# -- `python -m kiln_client.demo` (`make demo`) ----------------------------------------------------


def main() -> int:
    """Four closed-loop iterations against the server of :mod:`kiln_client.settings`.

    Returns:
        The exit status: 0, 2 on a client error (the message says what to fix), 130 if interrupted.
    """
    url = settings.default_url()
    try:
        token = settings.resolve_token()
        if not token:
            raise ClientError(settings.missing_token_hint())
        lab = virtual_lab()
        client = Client(url, token)
        print(f"Virtual LATP instrument -> {url}")
        run_demo(client, lab, iterations=int(os.environ.get("KILN_DEMO_ITERATIONS", "4")))
    except ClientError as exc:
        print(f"instrument: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("instrument: interrupted; run it again to continue", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
