"""The `kiln` command line: campaigns, results, candidates, proposals, benchmarks and the demo.

Every command talks to a Kiln server through :mod:`kiln.client`; the server's URL and a token come
from ``--url``/``--token`` or the environment (``KILN_URL``, ``KILN_TOKEN``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from kiln.client import (
    AuthError,
    Batch,
    Client,
    ClientError,
    Job,
    KilnAPIError,
    csv_chunks,
    read_text,
)

DEFAULT_URL = "http://127.0.0.1:8000"
TOKEN_FILE = Path("var") / "admin_token"
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


# -- plumbing -------------------------------------------------------------------------------------


class KilnGroup(click.Group):
    """A group that turns client errors into one friendly line (no traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ClientError as exc:
            raise click.ClickException(describe(exc)) from exc
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


def describe(exc: ClientError) -> str:
    """The error as the user should read it: what happened, then each offending field."""
    lines = [str(exc)]
    if isinstance(exc, KilnAPIError) and not isinstance(exc, AuthError):
        for field, messages in exc.errors.items():
            lines.append(f"  {field}: {'; '.join(messages)}")
    return "\n".join(lines)


def resolve_token(explicit: str | None) -> str | None:
    """--token or KILN_TOKEN, else KILN_ADMIN_TOKEN, else the file `make run` writes."""
    if explicit:
        return explicit
    if os.environ.get("KILN_ADMIN_TOKEN"):
        return os.environ["KILN_ADMIN_TOKEN"]
    try:
        return TOKEN_FILE.read_text().strip() or None
    except OSError:
        return None


def client_of(ctx: click.Context) -> Client:
    """The context's client, built on first use (so `--help` never needs a token)."""
    obj = ctx.find_root().ensure_object(dict)
    if "client" not in obj:
        token = resolve_token(obj.get("token"))
        if not token:
            raise click.UsageError(
                "no token: pass --token or set KILN_TOKEN (a local `make run` keeps the admin "
                f"token in {TOKEN_FILE})"
            )
        obj["client"] = Client(obj["url"], token, timeout=obj.get("timeout", 30.0))
    client: Client = obj["client"]
    return client


def echo_json(value: Any) -> None:
    """Print a value as JSON (one document)."""
    click.echo(json.dumps(value, indent=2, sort_keys=False, default=str))


def fail(message: str) -> NoReturn:
    """Stop with a friendly error."""
    raise click.ClickException(message)


def number(value: Any) -> str:
    """A compact rendering of a parameter or measured value."""
    if isinstance(value, bool) or value is None:
        return "-" if value is None else str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e6:
            return str(int(value))
        return f"{value:.4g}"
    return str(value)


def short_id(value: Any, width: int = 24) -> str:
    """An id cut to its last characters (ids can be long; `--json` has them whole)."""
    text = "" if value is None else str(value)
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def counted(n: int, noun: str) -> str:
    """``n`` and the noun, plural unless n is 1 ("1 candidate", "3 candidates")."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def sci(value: Any) -> str:
    """An objective in scientific notation (conductivities span orders of magnitude)."""
    return "-" if value is None else f"{float(value):.3e}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain text table, numbers right-aligned."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if _numeric(c) else c.ljust(w) for c, w in zip(row, widths, strict=True)
        ).rstrip()

    out = [line(list(headers)), line(["-" * w for w in widths])]
    out.extend(line(row) for row in cells)
    return "\n".join(out)


def _numeric(text: str) -> bool:
    try:
        float(text.replace("±", "").split()[0])
    except (ValueError, IndexError):
        return False
    return True


# -- root -----------------------------------------------------------------------------------------


@click.group(cls=KilnGroup, context_settings=CONTEXT)
@click.option(
    "--url",
    envvar="KILN_URL",
    default=DEFAULT_URL,
    show_default=True,
    help="The Kiln server (env KILN_URL).",
)
@click.option(
    "--token",
    envvar="KILN_TOKEN",
    help="A bearer token (env KILN_TOKEN; default KILN_ADMIN_TOKEN, then ./var/admin_token).",
)
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds per request.")
@click.version_option(package_name="kiln", prog_name="kiln")
@click.pass_context
def cli(ctx: click.Context, url: str, token: str | None, timeout: float) -> None:
    """Kiln: closed-loop Bayesian experiment design for materials labs.

    Create campaigns, post measured results, watch for the next proposed experiments and
    compare strategies, all over Kiln's HTTP API.

    \b
    Examples:
      export KILN_URL=http://kiln.lab:8000 KILN_TOKEN=...
      kiln campaigns create --preset latp --name latp-2026
      kiln results post seed.csv --campaign c-1a2b3c
      kiln candidates add lots.csv --campaign c-1a2b3c
      kiln proposals watch c-1a2b3c
      kiln benchmark c-1a2b3c --repeats 50
    """
    ctx.ensure_object(dict).update(url=url, token=token, timeout=timeout)


def main() -> None:
    """Entry point of the `kiln` console script."""
    cli(prog_name="kiln")


# -- campaigns ------------------------------------------------------------------------------------


@cli.group(context_settings=CONTEXT)
def campaigns() -> None:
    """Create, list and show optimisation campaigns."""


@campaigns.command("create")
@click.option(
    "--preset",
    type=click.Choice(["latp"]),
    help="Start from a preset (latp: the LATP sol-gel space of the study).",
)
@click.option(
    "--file",
    "spec_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A JSON campaign definition: name, parameters, objective, strategy.",
)
@click.option("--name", help="The campaign's name (overrides the preset's or file's).")
@click.option("--json", "as_json", is_flag=True, help="Print the created campaign as JSON.")
@click.pass_context
def campaigns_create(
    ctx: click.Context, preset: str | None, spec_file: Path | None, name: str | None, as_json: bool
) -> None:
    """Create a campaign from a preset or a JSON definition (admin token).

    \b
    Examples:
      kiln campaigns create --preset latp --name latp-2026
      kiln campaigns create --file spec.json
    """
    if bool(preset) == bool(spec_file):
        raise click.UsageError("give exactly one of --preset or --file")
    spec: dict[str, Any] = {}
    if spec_file is not None:
        try:
            spec = json.loads(spec_file.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            fail(f"{spec_file} is not valid JSON: {exc}")
        if not isinstance(spec, dict):
            fail(f"{spec_file} must hold one JSON object (the campaign definition)")
    campaign = client_of(ctx).create_campaign(spec, preset=preset, name=name)
    if as_json:
        echo_json(campaign)
        return
    click.echo(f"Created campaign {campaign.get('name')!r}: {campaign['id']}")
    click.echo(describe_campaign(campaign))


@campaigns.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the campaigns as JSON.")
@click.pass_context
def campaigns_list(ctx: click.Context, as_json: bool) -> None:
    """List the campaigns the token may read, oldest first."""
    items = client_of(ctx).list_campaigns()
    if as_json:
        echo_json(items)
        return
    if not items:
        click.echo("No campaigns yet. Create one: kiln campaigns create --preset latp")
        return
    rows = [
        [
            c["id"],
            c.get("name", ""),
            c.get("counts", {}).get("results", 0),
            c.get("counts", {}).get("proposals_pending", 0),
            number(c.get("counts", {}).get("model_version")),
            c.get("created_at", "")[:19],
        ]
        for c in items
    ]
    click.echo(table(["id", "name", "results", "pending", "model", "created"], rows))


@campaigns.command("show")
@click.argument("campaign_id")
@click.option("--json", "as_json", is_flag=True, help="Print the campaign as JSON.")
@click.pass_context
def campaigns_show(ctx: click.Context, campaign_id: str, as_json: bool) -> None:
    """Show a campaign: its space, objective, strategy, counts and best result so far.

    \b
    Example:
      kiln campaigns show c-1a2b3c
    """
    client = client_of(ctx)
    campaign = client.get_campaign(campaign_id)
    if as_json:
        echo_json(campaign)
        return
    click.echo(f"{campaign.get('name')} ({campaign['id']})")
    click.echo(describe_campaign(campaign))
    try:
        summary = client.model(campaign_id).get("summary", {})
    except KilnAPIError as exc:
        if exc.status != 404:
            raise
        return
    best = summary.get("best_observed") or {}
    if best:
        where = ", ".join(f"{k}={number(v)}" for k, v in (best.get("parameters") or {}).items())
        click.echo(f"Best observed: {sci(best.get('objective'))} at {where}")


def describe_campaign(campaign: Mapping[str, Any]) -> str:
    """Parameters, objective, strategy and counts of a campaign as a few lines."""
    lines = []
    for p in campaign.get("parameters", []):
        unit = f" {p['unit']}" if p.get("unit") else ""
        if p.get("kind") == "continuous":
            step = f" step {number(p['step'])}" if p.get("step") else ""
            span = f"{number(p.get('low'))} .. {number(p.get('high'))}{step}"
        else:
            span = ", ".join(number(v) for v in p.get("values", []))
        lines.append(f"  {p['name']:<16} {p.get('kind', ''):<11} {span}{unit}")
    objective = campaign.get("objective", {})
    lines.append(
        f"  objective: {objective.get('goal', 'maximize')} {objective.get('name')}"
        f"{' (' + objective['unit'] + ')' if objective.get('unit') else ''}"
    )
    strategy = campaign.get("strategy", {})
    if strategy:
        lines.append(
            f"  strategy: {strategy.get('acquisition')} kappa={number(strategy.get('kappa'))}, "
            f"batches of {strategy.get('batch_size')} by {strategy.get('batch_method')}"
        )
    counts = campaign.get("counts", {})
    lines.append(
        f"  space v{campaign.get('space_version', 1)}; {counts.get('results', 0)} results, "
        f"{counts.get('proposals_pending', 0)} proposals pending, "
        f"model v{number(counts.get('model_version'))}"
    )
    return "\n".join(lines)


# -- results --------------------------------------------------------------------------------------


@cli.group(context_settings=CONTEXT)
def results() -> None:
    """Post measured results and export them."""


@results.command("post")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--campaign", "campaign_id", required=True, help="The campaign's id.")
@click.option(
    "--chunk-size",
    type=click.IntRange(1, 10_000),
    default=500,
    show_default=True,
    help="Results per request (each request is all-or-nothing).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the server's answers as JSON.")
@click.pass_context
def results_post(
    ctx: click.Context, file: str, campaign_id: str, chunk_size: int, as_json: bool
) -> None:
    """Post results from a CSV or JSON file (write token).

    A CSV file has a header: sample_id, the parameter names, the objective's name (or
    "objective"); other columns are stored as measurements. A JSON file holds one result, a
    list of them, or {"results": [...]}. Large files go in chunks with a progress bar.

    Posting is idempotent by sample_id: posting the same file again stores nothing twice, so
    after an interruption simply run the command again.

    \b
    Examples:
      kiln results post seed.csv --campaign c-1a2b3c
      kiln results post batch-7.json --campaign c-1a2b3c
    """
    client = client_of(ctx)
    text = sys.stdin.read() if file == "-" else read_text(Path(file))
    is_json = file.lower().endswith(".json") or text.lstrip()[:1] in ("[", "{")
    chunks: list[tuple[Any, int]] = list(
        _json_chunks(text, file, chunk_size) if is_json else csv_chunks(text, chunk_size)
    )
    total = sum(n for _, n in chunks)
    if total == 0:
        fail(f"{file} holds no results")
    stored = duplicates = 0
    answers = []
    done = 0
    with click.progressbar(
        length=total, label=f"Posting {total} results", file=sys.stderr, show_pos=True
    ) as bar:
        for payload, n in chunks:
            try:
                if is_json:
                    answer = client.post_results(campaign_id, payload)
                else:
                    answer = client.post_results_csv(campaign_id, payload)
            except KilnAPIError as exc:
                if done:
                    click.echo(
                        f"\n{done} results before this chunk were stored; rows {done + 1}-"
                        f"{done + n} were refused. Fix them and post the file again (results "
                        "already stored count as duplicates).",
                        err=True,
                    )
                raise exc
            answers.append(answer)
            stored += answer.get("stored", 0)
            duplicates += answer.get("duplicates", 0)
            done += n
            bar.update(n)
    if as_json:
        echo_json(answers)
        return
    click.echo(
        f"Stored {stored} new results, {duplicates} already stored (campaign {campaign_id})."
    )
    flagged = [f for a in answers for f in a.get("flags", [])]
    for flag in flagged[:20]:
        click.echo(f"  note: {flag.get('sample_id')}: {'; '.join(flag.get('flags', []))}")
    if len(flagged) > 20:
        click.echo(f"  ... and {len(flagged) - 20} more flagged results")


def _json_chunks(text: str, name: str, size: int) -> Iterator[tuple[list[dict[str, Any]], int]]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        fail(f"{name} is not valid JSON: {exc}")
    if isinstance(data, dict):
        data = data["results"] if isinstance(data.get("results"), list) else [data]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        fail(f"{name}: expected a result object, a list of them, or {{'results': [...]}}")
    for start in range(0, len(data), size):
        part = data[start : start + size]
        yield part, len(part)


@results.command("export")
@click.argument("campaign_id")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option(
    "-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="File to write."
)
@click.pass_context
def results_export(ctx: click.Context, campaign_id: str, fmt: str, output: io.TextIOBase) -> None:
    """Export every result of a campaign as CSV (default) or JSON.

    \b
    Example:
      kiln results export c-1a2b3c -o results.csv
    """
    client = client_of(ctx)
    if fmt == "csv":
        output.write(client.export_results_csv(campaign_id))
    else:
        output.write(json.dumps(client.list_results(campaign_id), indent=2) + "\n")


# -- candidate pools ------------------------------------------------------------------------------


@cli.group(context_settings=CONTEXT)
def candidates() -> None:
    """Add, list and remove the rows of a campaign's candidate pool."""


@candidates.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--campaign", "campaign_id", required=True, help="The campaign's id.")
@click.option("--json", "as_json", is_flag=True, help="Print the server's answer as JSON.")
@click.pass_context
def candidates_add(ctx: click.Context, file: Path, campaign_id: str, as_json: bool) -> None:
    """Add candidates from a CSV or JSON file (admin token).

    A CSV file has a header of the parameter names and one row per candidate. A JSON file
    holds a list of {parameter: value} objects or {"candidates": [...]}. All-or-nothing: a
    bad row or a duplicate (of another row or of an open row of the pool) refuses the file,
    naming the row; nothing is added. Each addition is a new space version.

    \b
    Examples:
      kiln candidates add lots.csv --campaign c-1a2b3c
      kiln candidates add library.json --campaign c-1a2b3c
    """
    client = client_of(ctx)
    text = read_text(file)
    if file.suffix.lower() == ".json" or text.lstrip()[:1] in ("[", "{"):
        answer = client.add_candidates(campaign_id, _candidate_rows(text, str(file)))
    else:
        answer = client.add_candidates(campaign_id, file)
    if as_json:
        echo_json(answer)
        return
    ids = answer.get("ids") or []
    span = f" (ids {ids[0]}-{ids[-1]})" if len(ids) > 1 else f" (id {ids[0]})" if ids else ""
    click.echo(
        f"Added {counted(answer.get('added', 0), 'candidate')}{span}; the pool holds "
        f"{answer.get('total')} rows, space v{answer.get('space_version')} (campaign "
        f"{campaign_id})."
    )


def _candidate_rows(text: str, name: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        fail(f"{name} is not valid JSON: {exc}")
    if isinstance(data, dict) and isinstance(data.get("candidates"), list):
        data = data["candidates"]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        fail(f"{name}: expected a list of {{parameter: value}} objects or {{'candidates': [...]}}")
    if not data:
        fail(f"{name} holds no candidates")
    return data


@candidates.command("list")
@click.option("--campaign", "campaign_id", required=True, help="The campaign's id.")
@click.option(
    "--status",
    type=click.Choice(["open", "pending", "measured", "removed", "outside"]),
    help="Only the rows of this status.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the candidates as JSON.")
@click.pass_context
def candidates_list(
    ctx: click.Context, campaign_id: str, status: str | None, as_json: bool
) -> None:
    """List a campaign's candidates with their status, in id order.

    open: may be proposed; pending: proposed, waiting for its result; measured; removed: taken
    out for good; outside: a value the campaign's current ranges exclude (not proposed until
    they are widened).

    \b
    Examples:
      kiln candidates list --campaign c-1a2b3c
      kiln candidates list --campaign c-1a2b3c --status open --json
    """
    items = client_of(ctx).list_candidates(campaign_id, status=status)
    if as_json:
        echo_json(items)
        return
    if not items:
        click.echo(f"No {status} candidates." if status else "This campaign has no candidates.")
        return
    names = list(items[0].get("parameters", {}))
    rows = [
        [
            c.get("id"),
            c.get("status", ""),
            *[number(c.get("parameters", {}).get(n)) for n in names],
            c.get("reason", ""),
        ]
        for c in items
    ]
    click.echo(table(["id", "status", *names, "note"], rows))
    by_status: dict[str, int] = {}
    for c in items:
        by_status[c.get("status", "")] = by_status.get(c.get("status", ""), 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in by_status.items())
    click.echo(f"{counted(len(items), 'candidate')}: {summary}")


@candidates.command("remove")
@click.argument("ids", nargs=-1, required=True, type=click.IntRange(0))
@click.option("--campaign", "campaign_id", required=True, help="The campaign's id.")
@click.option("--reason", required=True, help="Why (kept with each row and its proposals).")
@click.option("--json", "as_json", is_flag=True, help="Print the server's answer as JSON.")
@click.pass_context
def candidates_remove(
    ctx: click.Context, ids: tuple[int, ...], campaign_id: str, reason: str, as_json: bool
) -> None:
    """Remove candidates for good by id (admin token); their pending proposals are withdrawn.

    Ids stay (a removed row is listed as removed, with the reason); the same values may be
    added again later as a new row. Removing a row twice is harmless.

    \b
    Example:
      kiln candidates remove 4 17 --campaign c-1a2b3c --reason "lot used up"
    """
    answer = client_of(ctx).remove_candidates(campaign_id, list(ids), reason)
    if as_json:
        echo_json(answer)
        return
    removed, already = answer.get("removed") or [], answer.get("already_removed") or []
    withdrawn = answer.get("withdrawn_proposals") or []
    head = f"Removed {counted(len(removed), 'candidate')}"
    parts = [f"{head} ({_ids(removed)})" if removed else head]
    if already:
        parts.append(f"{len(already)} removed already ({_ids(already)})")
    if withdrawn:
        parts.append(f"withdrew {counted(len(withdrawn), 'pending proposal')}")
    click.echo("; ".join(parts) + f"; space v{answer.get('space_version')}.")


def _ids(ids: Sequence[int]) -> str:
    return ", ".join(str(i) for i in ids[:20]) + (", ..." if len(ids) > 20 else "")


# -- proposals ------------------------------------------------------------------------------------


@cli.group(context_settings=CONTEXT)
def proposals() -> None:
    """Watch, request, export and withdraw proposed experiments."""


@proposals.command("watch")
@click.argument("campaign_id")
@click.option("--json", "as_json", is_flag=True, help="One JSON document per batch (for scripts).")
@click.option(
    "--wait",
    type=click.FloatRange(1, 60),
    default=30,
    show_default=True,
    help="Seconds each long-poll may wait on the server.",
)
@click.option("--count", type=click.IntRange(1), help="Stop after this many batches.")
@click.pass_context
def proposals_watch(
    ctx: click.Context, campaign_id: str, as_json: bool, wait: float, count: int | None
) -> None:
    """Print the latest batch, then each new batch as it appears (Ctrl-C to stop).

    Long-polls the server with the batch's ETag, so a new batch shows up within moments of the
    workers computing it, without hammering the server.

    \b
    Examples:
      kiln proposals watch c-1a2b3c
      kiln proposals watch c-1a2b3c --json --count 1 | jq '.proposals[].parameters'
    """
    client = client_of(ctx)
    campaign = client.get_campaign(campaign_id)
    if not as_json:
        click.echo(f"Watching {campaign.get('name')} ({campaign_id}); Ctrl-C to stop.", err=True)
    for seen, batch in enumerate(client.watch_proposals(campaign_id, wait=wait), start=1):
        if as_json:
            click.echo(json.dumps(batch))
        else:
            click.echo(format_batch(batch, campaign))
        sys.stdout.flush()
        if count is not None and seen >= count:
            return


def format_batch(batch: Batch, campaign: Mapping[str, Any] | None = None) -> str:
    """A batch as a heading and a table: parameters, prediction ± std, acquisition, status."""
    items = batch.get("proposals", [])
    names = list(items[0]["parameters"]) if items else []
    unit = ((campaign or {}).get("objective") or {}).get("unit") or ""
    heading = (
        f"\nBatch {short_id(batch.get('batch_id'))} ({batch.get('created_at', '')[:19]}): "
        f"{len(items)} proposals, {batch.get('acquisition')}/{batch.get('batch_method')}, "
        f"model v{number(batch.get('model_version'))}, data v{batch.get('data_version')}, "
        f"space v{batch.get('space_version')}"
    )
    if batch.get("fallback"):
        heading += f"\n  note: {batch['fallback']}"
    rows = []
    for p in items:
        mean, std = p.get("predicted_mean"), p.get("predicted_std")
        predicted = f"{mean:.3e} ± {std:.1e}" if mean is not None and std is not None else "-"
        rows.append(
            [
                short_id(p.get("id")),
                *[number(p["parameters"].get(n)) for n in names],
                predicted,
                number(p.get("acquisition_value")),
                p.get("status", ""),
            ]
        )
    headers = ["proposal", *names, f"predicted {unit}".strip(), "acquisition", "status"]
    return f"{heading}\n{table(headers, rows)}"


@proposals.command("list")
@click.argument("campaign_id")
@click.option("--pending", is_flag=True, help="Only the proposals still waiting for a result.")
@click.option("--json", "as_json", is_flag=True, help="Print the proposals as JSON.")
@click.pass_context
def proposals_list(ctx: click.Context, campaign_id: str, pending: bool, as_json: bool) -> None:
    """List a campaign's proposals (every batch), oldest first.

    \b
    Example:
      kiln proposals list c-1a2b3c --pending
    """
    items = client_of(ctx).list_proposals(campaign_id, status="pending" if pending else None)
    if as_json:
        echo_json(items)
        return
    if not items:
        click.echo("No proposals." if not pending else "No proposal is waiting for a result.")
        return
    names = list(items[0].get("parameters", {}))
    rows = [
        [
            short_id(p.get("id")),
            p.get("status", ""),
            *[number(p.get("parameters", {}).get(n)) for n in names],
            sci(p.get("predicted_mean")),
            p.get("sample_id") or "",
        ]
        for p in items
    ]
    click.echo(table(["proposal", "status", *names, "predicted", "measured by"], rows))


@proposals.command("request")
@click.argument("campaign_id")
@click.option("--batch-size", type=click.IntRange(1, 100), help="Proposals in the batch.")
@click.option("--acquisition", type=click.Choice(["ucb", "ei", "pi", "random"]), help="Override.")
@click.option(
    "--batch-method",
    type=click.Choice(
        ["kriging_believer", "constant_liar_min", "constant_liar_mean", "constant_liar_max"]
    ),
    help="Override the campaign's batch method.",
)
@click.option("--no-wait", is_flag=True, help="Print the job id and return at once.")
@click.pass_context
def proposals_request(
    ctx: click.Context,
    campaign_id: str,
    batch_size: int | None,
    acquisition: str | None,
    batch_method: str | None,
    no_wait: bool,
) -> None:
    """Ask the workers for a batch now and print it when it is ready.

    \b
    Example:
      kiln proposals request c-1a2b3c --batch-size 4 --acquisition ei
    """
    client = client_of(ctx)
    job = client.request_proposals(
        campaign_id, batch_size=batch_size, acquisition=acquisition, batch_method=batch_method
    )
    click.echo(f"Job {job['id']} {job.get('state')}", err=True)
    if no_wait:
        return
    client.wait_for_job(job["id"], timeout=ctx.find_root().obj.get("timeout", 30.0) * 10)
    batch = client.latest_proposals(campaign_id)
    if batch is not None:
        click.echo(format_batch(batch, client.get_campaign(campaign_id)))


@proposals.command("export")
@click.argument("campaign_id")
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option("--pending", is_flag=True, help="Only the proposals still waiting for a result.")
@click.option(
    "-o", "--output", type=click.File("w", encoding="utf-8"), default="-", help="File to write."
)
@click.pass_context
def proposals_export(
    ctx: click.Context, campaign_id: str, fmt: str, pending: bool, output: io.TextIOBase
) -> None:
    """Export the latest batch as CSV (one row per proposal, a column per parameter) or JSON.

    The CSV has a sample_id column left empty and the objective's column for the lab to fill
    in, so the same file can go back with `kiln results post`.

    \b
    Examples:
      kiln proposals export c-1a2b3c -o next.csv
      kiln proposals export c-1a2b3c --format json --pending
    """
    client = client_of(ctx)
    batch = client.latest_proposals(campaign_id)
    if batch is None:
        fail(f"campaign {campaign_id} has no batch yet: post results first")
    items = [p for p in batch.get("proposals", []) if not pending or p.get("status") == "pending"]
    if fmt == "json":
        output.write(json.dumps({**batch, "proposals": items}, indent=2) + "\n")
        return
    objective = client.get_campaign(campaign_id).get("objective", {}).get("name", "objective")
    names = list(items[0]["parameters"]) if items else []
    writer = csv.writer(output, lineterminator="\n")
    writer.writerow(
        [
            "proposal_id",
            "sample_id",
            *names,
            objective,
            "predicted_mean",
            "predicted_std",
            "acquisition_value",
            "status",
        ]
    )
    for p in items:
        writer.writerow(
            [
                p.get("id"),
                "",
                *[p["parameters"].get(n) for n in names],
                "",
                p.get("predicted_mean"),
                p.get("predicted_std"),
                p.get("acquisition_value"),
                p.get("status"),
            ]
        )


@proposals.command("withdraw")
@click.argument("campaign_id")
@click.argument("proposal_id")
@click.pass_context
def proposals_withdraw(ctx: click.Context, campaign_id: str, proposal_id: str) -> None:
    """Withdraw a pending proposal (it will not be synthesised)."""
    proposal = client_of(ctx).withdraw_proposal(campaign_id, proposal_id)
    click.echo(f"Proposal {proposal.get('id')} is now {proposal.get('status')}.")


# -- model, benchmark, demo -----------------------------------------------------------------------


@cli.command("model")
@click.argument("campaign_id")
@click.option("--json", "as_json", is_flag=True, help="Print the model summary as JSON.")
@click.pass_context
def model(ctx: click.Context, campaign_id: str, as_json: bool) -> None:
    """Show a campaign's latest model.

    Kernel, log marginal likelihood, best observed and best predicted.
    """
    info = client_of(ctx).model(campaign_id)
    if as_json:
        echo_json(info)
        return
    summary = info.get("summary", {})
    click.echo(
        f"Model v{info.get('model_version')} (data v{info.get('data_version')}, "
        f"space v{info.get('space_version')}), fitted {info.get('fitted_at', '')[:19]}"
    )
    for key in ("kernel", "log_marginal_likelihood", "n_observations"):
        if key in summary:
            click.echo(f"  {key.replace('_', ' ')}: {number(summary[key])}")
    scales = (summary.get("hyperparameters") or {}).get("length_scales") or {}
    if scales:
        click.echo("  length scales: " + ", ".join(f"{k} {number(v)}" for k, v in scales.items()))
    loo = summary.get("leave_one_out") or {}
    if loo.get("rmse") is not None:
        unit = f" {loo['unit']}" if loo.get("unit") else ""
        click.echo(f"  leave-one-out error: rmse {sci(loo['rmse'])}{unit} over {loo.get('n')}")
    for key in ("best_observed", "best_predicted"):
        best = summary.get(key) or {}
        if best:
            where = ", ".join(f"{k}={number(v)}" for k, v in (best.get("parameters") or {}).items())
            value = best.get("objective", best.get("mean"))
            click.echo(f"  {key.replace('_', ' ')}: {sci(value)} at {where}")


@cli.command("benchmark")
@click.argument("campaign_id")
@click.option(
    "--strategy",
    "strategies",
    multiple=True,
    type=click.Choice(["ucb", "ei", "pi", "random"]),
    help="A strategy to compare (repeatable; default all four).",
)
@click.option(
    "--n-init",
    "n_inits",
    multiple=True,
    type=click.IntRange(1),
    help="Initial sample count n (repeatable; default 1 5 10 15 20 30 40 50).",
)
@click.option("--repeats", type=click.IntRange(1, 1000), help="Runs per strategy and n (200).")
@click.option("--seed", type=click.IntRange(0), help="Random seed (0).")
@click.option("--no-wait", is_flag=True, help="Print the job id and return at once.")
@click.option("--json", "as_json", is_flag=True, help="Print the finished job as JSON.")
@click.option(
    "--max-wait",
    type=float,
    default=3600,
    show_default=True,
    help="Seconds to wait for the result.",
)
@click.pass_context
def benchmark(
    ctx: click.Context,
    campaign_id: str,
    strategies: tuple[str, ...],
    n_inits: tuple[int, ...],
    repeats: int | None,
    seed: int | None,
    no_wait: bool,
    as_json: bool,
    max_wait: float,
) -> None:
    """Compare strategies by virtual experiments on a campaign's data.

    The study's model-selection protocol: draw n initial samples from the campaign's own data,
    let each strategy pick from the same pool and count the extra tries until it finds the best
    sample. The workers run the repeats in parallel; progress is shown as chunks finish.

    \b
    Examples:
      kiln benchmark c-1a2b3c
      kiln benchmark c-1a2b3c --strategy ucb --strategy random --n-init 5 --n-init 15 --repeats 50
    """
    client = client_of(ctx)
    job = client.start_benchmark(
        campaign_id,
        strategies=list(strategies) or None,
        n_inits=list(n_inits) or None,
        repeats=repeats,
        seed=seed,
    )
    click.echo(f"Benchmark job {job['id']} started.", err=True)
    click.echo(
        f"Dashboard: {client.base_url}/campaigns/{campaign_id}?benchmark={job['id']}", err=True
    )
    if no_wait:
        click.echo(job["id"])
        return
    with click.progressbar(
        length=1, label="Virtual experiments", file=sys.stderr, show_pos=True
    ) as bar:

        def update(seen: Job) -> None:
            progress = seen.get("progress") or {}
            total = int(progress.get("chunks_total") or 0)
            if total:
                bar.length = total
                bar.update(int(progress.get("chunks_done", 0)) - bar.pos)
            if seen.get("state") == "done":
                bar.update(max(0, (bar.length or 0) - bar.pos))

        finished = client.wait_for_job(job["id"], timeout=max_wait, on_update=update)
    if as_json:
        echo_json(finished)
        return
    click.echo(format_benchmark(finished.get("result") or {}))


def format_benchmark(result: Mapping[str, Any]) -> str:
    """The virtual-experiment table: per strategy and n, how often it found the best, in how many.

    Each cell reads "found/runs  mean extra tries" (the mean over the runs that found it).
    """
    table_data: Mapping[str, Mapping[str, Any]] = result.get("table") or {}
    ns = sorted({int(n) for rows in table_data.values() for n in rows})
    rows = []
    for strategy, per_n in table_data.items():
        cells = []
        for n in ns:
            cell = per_n.get(str(n)) or {}
            if not cell:
                cells.append("-")
                continue
            tries = cell.get("mean_extra_tries")
            mean = "-" if tries is None else f"{tries:.1f}"
            cells.append(f"{cell.get('found')}/{cell.get('runs')} {mean:>5}")
        rows.append([strategy, *cells])
    heading = (
        f"Virtual experiments on {result.get('pool_size')} results "
        f"({result.get('repeats')} repeats; cell: found best/runs, mean extra tries)"
    )
    return f"{heading}\n{table(['strategy', *[f'n={n}' for n in ns]], rows)}"


@cli.command("demo")
@click.option(
    "--iterations", type=click.IntRange(1, 20), default=4, show_default=True, help="Loops."
)
@click.option("--name", default="latp-demo", show_default=True, help="The demo campaign.")
@click.pass_context
def demo(ctx: click.Context, iterations: int, name: str) -> None:
    """Run closed-loop iterations with the virtual LATP lab.

    Creates (or continues) the demo campaign, posts the 80-sample seed grid once, then in each
    iteration waits for a batch, "synthesises" it in the virtual lab (standing in for the
    furnace) and posts the results.

    \b
    Example:
      kiln demo --iterations 2
    """
    try:
        from instrument.demo import run_demo
    except ImportError:  # pragma: no cover - installed with kiln
        fail("the demo needs the `instrument` package (install Kiln from the repository)")
    from kiln.lab import VirtualLatpLab

    client = client_of(ctx)
    click.echo(f"Virtual LATP instrument -> {client.base_url}")
    run_demo(client, VirtualLatpLab(), iterations=iterations, name=name, out=click.echo)
