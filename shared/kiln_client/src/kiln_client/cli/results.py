"""`kiln results`: post measured results (CSV or JSON, in chunks), export, correct and exclude them."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from kiln_client.cli.options import campaign_argument, campaign_option, json_option
from kiln_client.cli.output import CONTEXT, counted, echo_json, fail, number, plural, table
from kiln_client.cli.root import client_of
from kiln_client.client import KilnAPIError, ResultView, csv_chunks, read_text, result_etag


@click.group(context_settings=CONTEXT)
def results() -> None:
    """Post measured results, export them, correct or exclude one and read its history."""


@results.command("post")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@campaign_option
@click.option(
    "--chunk-size",
    type=click.IntRange(1, 10_000),
    default=500,
    show_default=True,
    help="Results per request (each request is all-or-nothing).",
)
@json_option("the server's answers")
@click.pass_context
def results_post(
    ctx: click.Context, file: str, campaign_id: str, chunk_size: int, as_json: bool
) -> None:
    """Post results from a CSV or JSON file (write token).

    A CSV file has a header: sample_id, the parameter names, the objective's name (or
    "objective"); a multi-objective campaign has one column per objective name instead (an
    empty cell: not measured). Other columns are stored as measurements. A file from `kiln proposals
    export`, filled in, posts as it is: rows left unfilled are skipped. A JSON file holds one
    result, a list of them, or {"results": [...]}. Large files go in chunks with a progress bar.

    Posting is idempotent by sample_id: posting the same file again stores nothing twice, so
    after an interruption simply run the command again.

    \b
    Examples:
      kiln results post seed.csv --campaign latp-2026
      kiln results post batch-7.json --campaign latp-2026
      kiln results post moo.csv --campaign latp-moo-2026   # columns conductivity,relative_density
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
    stored = duplicates = skipped = 0
    answers = []
    done = 0
    with click.progressbar(
        length=total, label=f"Posting {counted(total, 'result')}", file=sys.stderr, show_pos=True
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
                        f"\nStored {counted(done, 'result')} before this chunk; rows {done + 1}-"
                        f"{done + n} were refused. Fix them and post the file again (results "
                        "already stored count as duplicates).",
                        err=True,
                    )
                raise exc
            answers.append(answer)
            stored += answer.get("stored", 0)
            duplicates += answer.get("duplicates", 0)
            skipped += answer.get("skipped", 0)
            done += n
            bar.update(n)
    if as_json:
        echo_json(answers)
        return
    unfilled = f", {counted(skipped, 'row')} not filled in skipped" if skipped else ""
    click.echo(
        f"Stored {stored} new {plural(stored, 'result')}, {duplicates} already stored{unfilled} "
        f"(campaign {campaign_id})."
    )
    flagged = [f for a in answers for f in a.get("flags", [])]
    for flag in flagged[:20]:
        click.echo(f"  note: {flag.get('sample_id')}: {'; '.join(flag.get('flags', []))}")
    if len(flagged) > 20:
        click.echo(
            f"  ... and {len(flagged) - 20} more flagged {plural(len(flagged) - 20, 'result')}"
        )


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
@campaign_argument
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
      kiln results export latp-2026 -o results.csv
    """
    client = client_of(ctx)
    if fmt == "csv":
        output.write(client.export_results_csv(campaign_id))
    else:
        output.write(json.dumps(client.list_results(campaign_id), indent=2) + "\n")


# -- corrections: a result's revisions (the original entry is never rewritten) ---------------------

REASON = click.option(
    "--reason", required=True, help="Why (1-500 characters); kept in the result's history."
)


def _scalar(text: str) -> Any:
    """A value typed on the command line: an int or a float when it reads as one, else the text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _pairs(values: tuple[str, ...], option: str, *, null_removes: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            fail(f"{option} takes name=value, not {item!r}")
        out[name.strip()] = None if null_removes and text == "null" else _scalar(text)
    return out


class _Objective(click.ParamType):
    name = "NUMBER|null"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is None or (isinstance(value, str) and value.lower() == "null"):
            return None
        try:
            return float(value)
        except ValueError:
            self.fail(f"{value!r} is not a number (or null)", param, ctx)


def _changes_text(changes: dict[str, Any]) -> str:
    return "; ".join(
        f"{field}: {number(change.get('from'))} → {number(change.get('to'))}"
        for field, change in changes.items()
    )


def _report(view: ResultView, as_json: bool) -> None:
    if as_json:
        echo_json(view)
        return
    revisions = view.get("revisions") or []
    last = revisions[-1] if revisions else {}
    state = "excluded from training" if view.get("excluded") else "used for training"
    click.echo(
        f"{view.get('sample_id')}: revision {view.get('revision', 0)} stored ({state}): "
        f"{_changes_text(last.get('changes') or {}) or 'no change'}. The model refits on it."
    )


@results.command("correct")
@campaign_argument
@click.argument("sample_id")
@REASON
@click.option("--objective", type=_Objective(), help="The objective's value (null if failed).")
@click.option("--objective-sd", type=_Objective(), help="Its standard deviation (null removes).")
@click.option(
    "--objectives", "objectives", multiple=True, metavar="NAME=VALUE",
    help="A multi-objective result's value of NAME (repeatable; NAME=null: not measured).",
)  # fmt: skip
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Repeatable.")
@click.option(
    "--measurement", "measurements", multiple=True, metavar="KEY=VALUE",
    help="Repeatable; KEY=null removes the measurement.",
)  # fmt: skip
@click.option("--status", type=click.Choice(["ok", "failed"]))
@click.option("--if-match", metavar="ETAG", help="Refuse if the result changed since this ETag.")
@json_option("the corrected result")
@click.pass_context
def results_correct(ctx: click.Context, campaign_id: str, sample_id: str, **given: Any) -> None:
    """Correct a stored result (write token): a new revision, the original kept.

    Only what you name changes; the model refits on the corrected data. `kiln results history`
    shows every revision with who made it and why.

    \b
    Examples:
      kiln results correct latp-2026 LATP-042 --objective 1.2e-3 --reason "typo: 1e300"
      kiln results correct latp-2026 LATP-042 --param temperature_c=975 \\
          --reason "furnace log: 975 degC"
      kiln results correct latp-2026 LATP-042 --measurement density=null --reason "not measured"
      kiln results correct latp-moo-2026 M-7 --objectives relative_density=0.93 \\
          --reason "re-weighed"
    """
    changes: dict[str, Any] = {}
    source = ctx.get_parameter_source
    for name in ("objective", "objective_sd"):
        if source(name) is click.core.ParameterSource.COMMANDLINE:
            changes[name] = given[name]
    if given["params"]:
        changes["parameters"] = _pairs(given["params"], "--param")
    if given["measurements"]:
        changes["measurements"] = _pairs(given["measurements"], "--measurement", null_removes=True)
    if given["objectives"]:
        changes["objectives"] = _pairs(given["objectives"], "--objectives", null_removes=True)
    if given["status"]:
        changes["status"] = given["status"]
    if not changes:
        fail("name something to correct: --objective, --objectives, --objective-sd, --param, "
             "--measurement or --status (to set a result aside, use `kiln results exclude`)")  # fmt: skip
    view = client_of(ctx).correct_result(
        campaign_id, sample_id, reason=given["reason"], if_match=given["if_match"], **changes
    )
    _report(view, given["as_json"])


def _exclusion_command(name: str, excluded: bool, doc: str) -> None:
    """`kiln results exclude` or `include`: set the result's ``excluded`` flag, with a reason."""

    @results.command(name, help=doc)
    @campaign_argument
    @click.argument("sample_id")
    @REASON
    @json_option("the result")
    @click.pass_context
    def command(
        ctx: click.Context, campaign_id: str, sample_id: str, reason: str, as_json: bool
    ) -> None:
        view = client_of(ctx).correct_result(
            campaign_id, sample_id, reason=reason, excluded=excluded
        )
        _report(view, as_json)


_exclusion_command(
    "exclude",
    True,
    """Set a result aside (write token): models stop training on it; it stays listed.

    \b
    Example:
      kiln results exclude latp-2026 LATP-042 --reason "pellet cracked"
    """,
)
_exclusion_command(
    "include",
    False,
    """Take an excluded result back into training (write token).

    \b
    Example:
      kiln results include latp-2026 LATP-042 --reason "re-measured: the pellet was fine"
    """,
)


@results.command("history")
@campaign_argument
@click.argument("sample_id")
@json_option("the result with its revisions")
@click.pass_context
def results_history(ctx: click.Context, campaign_id: str, sample_id: str, as_json: bool) -> None:
    """A result's revisions, oldest first: when, by whom, why and what changed.

    \b
    Example:
      kiln results history latp-2026 LATP-042
    """
    view = client_of(ctx).result(campaign_id, sample_id)
    if as_json:
        echo_json(view)
        return
    state = "excluded" if view.get("excluded") else "included"
    values = view.get("objectives")
    measured = (
        ", ".join(f"{k} {number(v)}" for k, v in values.items())
        if values
        else f"objective {number(view.get('objective'))}"
    )
    click.echo(
        f"{view.get('sample_id')}: revision {view.get('revision', 0)}, {state}; {measured}, "
        f"status {view.get('status', 'ok')} (ETag {result_etag(view)})"
    )
    revisions = view.get("revisions") or []
    if not revisions:
        click.echo("Never corrected: this is the result as posted.")
        return
    rows = [
        [r.get("revision"), r.get("at", ""), r.get("by", ""), r.get("reason", ""),
         _changes_text(r.get("changes") or {})]
        for r in revisions
    ]  # fmt: skip
    click.echo(table(["revision", "at", "by", "reason", "changes"], rows))
