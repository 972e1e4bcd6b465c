"""The dashboard on the live stack: sign-in by session, the read relay, and a real headless Chromium.

The browser test drives Debian's /usr/bin/chromium with Playwright (no browser download); where
the browser or Playwright is missing it is skipped with the reason. Its screenshot is kept in
tests/artifacts/dashboard.png.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import requests

from kiln.lab import VirtualLatpLab, measure_objectives
from kiln_client.client import Client
from kiln_client.demo import measure, pending_proposals, wait_for_batch
from kiln_services.devstack.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = Path(os.environ.get("KILN_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def sign_in(base_url: str, token: str) -> requests.Session:
    """A requests session signed in through the login form (as a browser would)."""
    session = requests.Session()
    form = session.get(f"{base_url}/login", timeout=10)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf, form.text
    answer = session.post(
        f"{base_url}/login",
        data={"token": token, "csrf": csrf.group(1)},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text
    return session


@pytest.fixture(scope="module")
def campaign_with_data(stack: Stack) -> dict[str, Any]:
    """An LATP campaign with the seed grid, one closed-loop iteration, a small benchmark and a
    last batch requested while the one before is still pending."""
    client = Client(stack.base_url, stack.admin_token, timeout=30)
    lab = VirtualLatpLab()
    campaign = client.create_campaign(preset="latp", name="dashboard-latp")
    cid = campaign["id"]
    client.post_results(cid, lab.seed_grid())
    batch, _ = wait_for_batch(client, cid, min_data_version=80)
    client.post_results(cid, measure(lab, batch, 1))
    job = client.start_benchmark(
        cid, strategies=["ucb", "random"], n_inits=[5, 15], repeats=3, chunk_size=6
    )
    client.wait_for_job(job["id"], timeout=300)
    batch, _ = wait_for_batch(client, cid, min_data_version=80 + len(batch["proposals"]))
    again = client.request_proposals(cid, batch_size=2)
    client.wait_for_job(again["id"], timeout=300)
    return {"id": cid, "benchmark": job["id"], "client": client}


def test_pages_need_a_session_and_never_show_the_token(
    stack: Stack, campaign_with_data: dict[str, Any]
) -> None:
    base, cid = stack.base_url, campaign_with_data["id"]
    anonymous = requests.get(f"{base}/", allow_redirects=False, timeout=10)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert requests.get(f"{base}/ui/api/campaigns", timeout=10).status_code == 401

    wrong = requests.Session()
    form = wrong.get(f"{base}/login", timeout=10).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf
    refused = wrong.post(f"{base}/login", data={"token": "nope", "csrf": csrf.group(1)}, timeout=10)
    assert refused.status_code == 401 and "unknown or has been revoked" in refused.text

    session = sign_in(base, stack.admin_token)
    cookie = session.cookies.get("kiln_session")
    assert cookie
    index = session.get(f"{base}/", timeout=10)
    assert index.status_code == 200 and "dashboard-latp" in index.text
    page = session.get(f"{base}/campaigns/{cid}", timeout=10)
    assert page.status_code == 200
    for body in (index.text, page.text):
        assert stack.admin_token not in body
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]

    results = session.get(f"{base}/ui/api/campaigns/{cid}/results", timeout=10).json()
    assert results["total"] >= 86
    csv_export = session.get(f"{base}/ui/api/campaigns/{cid}/results?format=csv", timeout=10)
    assert csv_export.headers["Content-Type"].startswith("text/csv")
    assert csv_export.text.count("\n") >= 87
    state = session.get(f"{base}/ui/campaigns/{cid}/state", timeout=10).json()
    assert state["campaign"]["id"] == cid and state["latest"]["proposals"]
    assert session.get(f"{base}/ui/api/tokens", timeout=10).status_code == 404  # not relayed
    js = session.get(f"{base}/ui/plotly.min.js", timeout=30)
    assert js.status_code == 200 and len(js.content) > 1_000_000

    csrf_out = re.search(r'name="csrf" value="([^"]+)"', index.text)
    assert csrf_out
    session.post(f"{base}/logout", data={"csrf": csrf_out.group(1)}, timeout=10)
    assert session.get(f"{base}/ui/api/campaigns", timeout=10).status_code == 401


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium through Playwright, or a skip that says what is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def until(page: Any, script: str, timeout: float = 30.0) -> Any:
    """Poll a JS expression until truthy (wait_for_function would need 'unsafe-eval' under CSP)."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(script)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {script}")
        time.sleep(0.2)


def trace_lengths(page: Any, element_id: str) -> list[int]:
    """The number of points in each trace of a plotly chart (x, or z rows for heatmaps)."""
    return list(
        page.evaluate(
            "id => (document.getElementById(id).data || [])"
            ".map(t => (t.type === 'heatmap' ? t.z : t.x || []).length)",
            element_id,
        )
    )


@contextmanager
def signed_in_page(
    browser: Any,
    stack: Stack,
    cid: str,
    *,
    console_errors: bool = True,
    before: Callable[[Any], None] | None = None,
    **options: Any,
) -> Iterator[Any]:
    """A page of a fresh browser context, signed in through the login form on campaign `cid`'s
    page. Leaving the block without an error asserts the page had none (uncaught exceptions, and
    console errors with `console_errors`); the context is closed either way.

    Args:
        browser: The Playwright browser.
        stack: The live stack.
        cid: The campaign whose page to open.
        console_errors: Whether errors logged to the console count as the page's errors.
        before: Called with the page before it loads anything (to route requests, say).
        **options: For ``browser.new_context`` beside the 1280x900 viewport.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    page = context.new_page()
    problems: list[str] = []
    if console_errors:
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    if before is not None:
        before(page)
    try:
        page.goto(f"{stack.base_url}/campaigns/{cid}")
        assert "/login" in page.url, "an anonymous visit asks to sign in"
        page.fill("#token", stack.admin_token)
        page.click("form button[type=submit]")
        page.wait_for_url(f"**/campaigns/{cid}*")
        assert stack.admin_token not in page.url
        yield page
        assert problems == [], problems
    finally:
        context.close()


def screenshot(page: Any, name: str) -> Path:
    """The whole page as tests/artifacts/`name`."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / name
    page.screenshot(path=str(shot), full_page=True)
    return shot


def two_furnace_campaign(client: Client, preset: str, name: str) -> str:
    """A campaign of `preset` whose batches share temperature and time over two furnace runs."""
    cid = client.create_campaign(preset=preset, name=name)["id"]
    shared = {"parameters": ["temperature_c", "time_min"], "groups": 2}
    client.update_campaign(cid, {"strategy": {"batch_shared": shared}})
    return cid


def test_the_dashboard_in_headless_chromium(
    browser: Any, stack: Stack, campaign_with_data: dict[str, Any]
) -> None:
    cid, client = campaign_with_data["id"], campaign_with_data["client"]
    with signed_in_page(
        browser,
        stack,
        cid,
        timezone_id="Asia/Kolkata",  # UTC+05:30: local times differ from UTC by a half hour
        permissions=["clipboard-read", "clipboard-write"],
    ) as page:
        results = client.list_results(cid)
        scored = [r for r in results if r.get("objective") is not None]
        until(page, "() => (document.getElementById('chart-convergence').data || []).length == 2")
        assert trace_lengths(page, "chart-convergence") == [len(scored), len(scored)]
        y_type = page.evaluate(
            "() => document.getElementById('chart-convergence').layout.yaxis.type"
        )
        assert y_type == "log", "conductivity spans decades: log axis"

        batch = client.latest_proposals(cid)
        assert batch is not None
        until(page, "() => document.querySelectorAll('#table-batch tbody tr').length > 0")
        rows = page.locator("#table-batch tbody tr").count()
        assert rows == len(batch["proposals"])
        assert page.locator("#table-results tbody tr").count() == len(results)
        check_the_batch_table(page, batch)

        # The finished benchmark shows without ?benchmark=<id>, and the campaign's jobs are listed.
        until(page, "() => (document.getElementById('chart-bench').data || []).length > 0")
        assert trace_lengths(page, "chart-bench") == [2, 2, 2, 2]  # 2 strategies x (tries, %)
        assert campaign_with_data["benchmark"] in page.inner_text("#bench-list")
        assert campaign_with_data["benchmark"] in page.inner_text("#bench-note")
        has_slice = page.evaluate("() => !document.getElementById('slice-controls').hidden")
        if has_slice:
            until(page, "() => (document.getElementById('chart-slice-mean').data || []).length")
            heat, *points = trace_lengths(page, "chart-slice-mean")
            trained = client.model(cid)["summary"]["n_observations"]
            assert heat > 1 and sum(points) == trained
            assert trace_lengths(page, "chart-slice-acq")[0] == heat
            # The prediction's uncertainty beside it (the study's Figure 2 pair), with data.
            assert trace_lengths(page, "chart-slice-std")[0] == heat
            spread = page.evaluate(
                "() => document.getElementById('chart-slice-std').data[0].z.flat()"
                ".filter(v => v !== null && v > 0).length"
            )
            assert spread > heat
            # Hold the third parameter elsewhere: the slice is redrawn there.
            page.select_option("#slice-fixed select[data-name='time_min']", "30")
            until(page, "() => document.getElementById('slice-held').textContent"
                        ".includes('time_min = 30')")  # fmt: skip
            page.select_option("#slice-fixed select[data-name='time_min']", "")
            until(page, "() => !document.getElementById('slice-held').textContent"
                        ".includes('time_min = 30')")  # fmt: skip

        # Pending proposals of earlier batches only: the latest batch's are in its own table.
        pending = client.get_json(f"/campaigns/{cid}/proposals", params={"status": "pending"})
        latest_ids = {p["id"] for p in batch["proposals"]}
        earlier = [p for p in pending["items"] if p["id"] not in latest_ids]
        until(page, "() => !document.getElementById('pending').hidden")
        assert page.locator("#table-pending tbody tr").count() == len(earlier) > 0
        shown = page.locator("#table-pending tbody tr td:first-child code").all_inner_texts()
        assert shown == [p["id"] for p in earlier] and not latest_ids & set(shown)
        # "proposed": local time (the browser's zone) to the minute.
        kolkata = timezone(timedelta(hours=5, minutes=30))
        created = datetime.fromisoformat(earlier[0]["created_at"].replace("Z", "+00:00"))
        proposed = page.evaluate(
            "() => { const r = document.querySelector('#table-pending tbody tr');"
            " return r.cells[r.cells.length - 2].textContent; }"
        )
        assert proposed == created.astimezone(kolkata).strftime("%Y-%m-%d %H:%M")

        # Live: a new result shows up without a reload.
        before = len(results)
        new = {**results[-1], "sample_id": "LIVE-1", "proposal_id": None}
        new = {k: new[k] for k in ("sample_id", "parameters", "objective", "measurements")}
        client.post_results(cid, new)
        until(page, f"() => document.getElementById('fact-results').textContent == '{before + 1}'")
        until(
            page,
            "() => document.getElementById('chart-convergence').data[0].x.length == "
            f"{len(scored) + 1}",
        )
        page.wait_for_timeout(1500)  # let the slices redraw after the refit before the picture

        assert screenshot(page, "dashboard.png").stat().st_size > 20_000

        page.goto(f"{stack.base_url}/")
        assert page.locator(f"a[href='/campaigns/{cid}']").count() == 1

        # A campaign without data yet: what to do instead of empty axes, still no errors.
        empty = client.create_campaign(preset="latp", name="dashboard-empty")["id"]
        page.goto(f"{stack.base_url}/campaigns/{empty}")
        until(page, "() => document.getElementById('status').textContent.startsWith('Live')")
        assert page.locator("#chart-convergence").is_hidden()
        advice = page.inner_text("#convergence-empty")
        assert f"kiln results post results.csv --campaign {empty}" in advice
        assert f"/api/v1/campaigns/{empty}/results" in advice
        assert "No model yet" in page.inner_text("#slice-note")
        assert "No batch yet" in page.inner_text("#batch-note")


def check_the_batch_table(page: Any, batch: dict[str, Any]) -> None:
    """Whole ids with a working copy button, intervals, and acquisitions a chemist can read."""
    ids = page.locator("#table-batch tbody tr td:first-child code").all_inner_texts()
    assert ids == [p["id"] for p in batch["proposals"]]
    first = page.locator("#table-batch tbody tr").first
    first.locator("button.copy").click()
    until(page, "() => document.querySelector('#table-batch button.copy').textContent == 'Copied'")
    assert page.evaluate("() => navigator.clipboard.readText()") == ids[0]
    cells = page.locator("#table-batch tbody tr").evaluate_all(
        "rows => rows.map(r => [r.cells[r.cells.length - 2].textContent,"
        " r.cells[r.cells.length - 1].textContent])"
    )
    for predicted, acquisition in cells:
        assert re.fullmatch(r"\d\.\de[-+]\d+ – \d\.\de[-+]\d+", predicted), predicted
        digits = re.sub(r"e[-+]\d+$|[-.]", "", acquisition).lstrip("0")
        assert acquisition == "≈0" or len(digits) <= 3, acquisition


def test_exclude_a_result_in_the_browser_and_read_its_history(
    browser: Any, stack: Stack, campaign_with_data: dict[str, Any]
) -> None:
    """A suspect is marked with its residual; exclude… asks a reason, the row is struck through
    and its history names who and why; include… takes it back; replicates sit together."""
    cid, client = campaign_with_data["id"], campaign_with_data["client"]
    results = client.list_results(cid)
    target = results[3]["sample_id"]
    twin = {k: results[5][k] for k in ("parameters", "objective")}
    client.post_results(cid, {"sample_id": "REPLICATE-1", **twin, "measurements": {}})

    def planted(page: Any) -> None:
        page.route("**/ui/campaigns/*/state", lambda route: plant_suspect(route, target))

    with signed_in_page(browser, stack, cid, console_errors=False, before=planted) as page:
        until(page, "() => document.querySelector(\"tr[data-sample='REPLICATE-1']\")")
        check_replicates(page, ["REPLICATE-1", results[5]["sample_id"]])

        # The model's suspect: marked in its row and listed with an exclude… button.
        row = page.locator(f"#table-results tr[data-sample='{target}']")
        until(page, "() => !document.getElementById('suspects').hidden")
        assert row.locator(".badge.suspect").inner_text() == "suspect 4.5"
        assert "residual 4.5" in page.inner_text("#suspect-list")
        assert not row.evaluate("tr => tr.classList.contains('excluded')"), "never by itself"
        page.once("dialog", lambda dialog: dialog.accept("pellet cracked"))
        page.locator("#suspect-list button.exclude").click()
        until(page, f"() => document.querySelector(\"tr[data-sample='{target}']\")"
                    ".classList.contains('excluded')")  # fmt: skip
        row = page.locator(f"#table-results tr[data-sample='{target}']")
        struck = row.locator("td").nth(1).evaluate("td => getComputedStyle(td).textDecorationLine")
        assert "line-through" in struck
        stored = client.result(cid, target)
        assert stored["excluded"] is True and stored["revision"] == 1
        assert stored["revisions"][0]["reason"] == "pellet cracked"

        row.locator("button.history").click()
        until(page, "() => document.querySelectorAll('#table-history tbody tr').length == 1")
        history = page.inner_text("#table-history")
        assert "pellet cracked" in history and "excluded: false → true" in history
        assert stored["revisions"][0]["by"] in history
        assert target in page.inner_text("#history-title")
        screenshot(page, "dashboard-history.png")

        # include… from the row: no longer struck through, and the open history has both.
        page.once("dialog", lambda dialog: dialog.accept("re-measured: fine"))
        row.locator("button.include").click()
        until(page, "() => document.querySelectorAll('#table-history tbody tr').length == 2")
        row = page.locator(f"#table-results tr[data-sample='{target}']")
        assert not row.evaluate("tr => tr.classList.contains('excluded')")
        assert client.result(cid, target)["revision"] == 2


def plant_suspect(route: Any, sample_id: str) -> None:
    """Answer the page's state read with the model summary listing `sample_id` as a suspect."""
    answer = route.fetch()
    state = answer.json()
    if state.get("model"):
        state["model"]["summary"]["suspects"] = [{"sample_id": sample_id, "residual": 4.53}]
    route.fulfill(response=answer, json=state)


def check_replicates(page: Any, twins: list[str]) -> None:
    """Results at the same parameters sit next to each other, each saying how many there are."""
    rows = page.locator("#table-results tbody tr").evaluate_all(
        "rows => rows.map(r => [r.getAttribute('data-sample'),"
        " r.querySelector('.replicates').textContent])"
    )
    at = [i for i, (sid, _) in enumerate(rows) if sid in twins]
    assert len(at) == 2 and at[1] == at[0] + 1, rows
    assert rows[at[0]][1] == rows[at[1]][1] == "×2"


def test_a_campaign_limited_token_sees_its_campaign_only(
    stack: Stack, campaign_with_data: dict[str, Any]
) -> None:
    client: Client = campaign_with_data["client"]
    cid = campaign_with_data["id"]
    other = client.create_campaign(preset="latp", name="dashboard-other")["id"]
    issued = client.post_json("/tokens", {"scope": "read", "name": "viewer", "campaign_id": cid})
    session = sign_in(stack.base_url, issued["token"])
    assert session.get(f"{stack.base_url}/campaigns/{cid}", timeout=10).status_code == 200
    refused = session.get(f"{stack.base_url}/campaigns/{other}", timeout=10)
    assert refused.status_code == 403 and "limited to campaign" in refused.text
    relayed = session.get(f"{stack.base_url}/ui/api/campaigns/{other}/results", timeout=10)
    assert relayed.status_code == 403


def test_the_session_key_is_shared_by_every_process(monkeypatch: pytest.MonkeyPatch) -> None:
    from kiln_services.intake import create_app

    def key(**config: Any) -> Any:
        return create_app({"REDIS_URL": "redis://127.0.0.1:1/0", **config}).config["SECRET_KEY"]

    monkeypatch.delenv("KILN_SECRET_KEY", raising=False)
    assert key(KILN_ADMIN_TOKEN="a" * 32) == key(KILN_ADMIN_TOKEN="a" * 32)
    assert key(KILN_ADMIN_TOKEN="a" * 32) != key(KILN_ADMIN_TOKEN="b" * 32)
    assert "a" * 32 not in key(KILN_ADMIN_TOKEN="a" * 32)
    monkeypatch.setenv("KILN_SECRET_KEY", "from-the-environment")
    assert key(KILN_ADMIN_TOKEN="a" * 32) == "from-the-environment"


@pytest.mark.parametrize(
    ("target", "kept"),
    [("/campaigns/c1?benchmark=j", True), ("//evil.example", False),
     ("https://evil.example/", False), ("/\\evil.example", False), (None, False)],
)  # fmt: skip
def test_sign_in_only_returns_to_pages_of_this_site(target: str | None, kept: bool) -> None:
    from kiln_services.intake import create_app
    from kiln_services.intake.dashboard.views import _safe_next

    app = create_app({"REDIS_URL": "redis://127.0.0.1:1/0", "KILN_ADMIN_TOKEN": "a" * 32})
    with app.test_request_context("/login"):
        assert (_safe_next(target) == target) is kept


# -- a multi-objective campaign (issue 16) ---------------------------------------------------------


def as_objectives(result: dict[str, Any]) -> dict[str, Any]:
    """A seed-grid result of the virtual lab as a latp-moo result (conductivity and density)."""
    density = result["measurements"]["relative_density"]
    return {
        "sample_id": result["sample_id"],
        "parameters": result["parameters"],
        "objectives": {"conductivity": result["objective"], "relative_density": density},
    }


@pytest.fixture(scope="module")
def moo_campaign(stack: Stack) -> dict[str, Any]:
    """A latp-moo campaign: 20 seed results, one measured batch, and the batch that followed."""
    client = Client(stack.base_url, stack.admin_token, timeout=30)
    lab = VirtualLatpLab()
    campaign = client.create_campaign(preset="latp-moo", name="dashboard-moo")
    cid = campaign["id"]
    names = [o["name"] for o in campaign["objectives"]]
    seed = [as_objectives(r) for r in lab.seed_grid()[::4]]
    client.post_results(cid, seed)
    batch, _ = wait_for_batch(client, cid, min_data_version=len(seed))
    measured = [
        {"sample_id": f"MOO-{i}", "parameters": p["parameters"], "proposal_id": p["id"],
         **measure_objectives(lab, p["parameters"], names, rng=i)}
        for i, p in enumerate(pending_proposals(batch))
    ]  # fmt: skip
    client.post_results(cid, measured)
    wait_for_batch(client, cid, min_data_version=len(seed) + len(measured))
    return {"id": cid, "client": client, "names": names}


def test_a_multi_objective_campaign_in_headless_chromium(
    browser: Any, stack: Stack, moo_campaign: dict[str, Any]
) -> None:
    """The Pareto plot (measured, front, pending proposals with error bars, reference point),
    the hypervolume against the number of results, a prediction column per objective."""
    cid, client = moo_campaign["id"], moo_campaign["client"]
    with signed_in_page(browser, stack, cid) as page:
        until(page, "() => (document.getElementById('chart-pareto').data || []).length >= 4")
        report = client.pareto(cid)
        batch = client.latest_proposals(cid)
        assert batch is not None and report["front"]
        traces = {
            t["name"].split(" (")[0]: t
            for t in page.evaluate("() => document.getElementById('chart-pareto').data")
        }
        front = {p["sample_id"] for p in report["front"]}
        assert sorted(traces["Pareto front"]["text"]) == sorted(front)
        results = client.list_results(cid)
        both = [r for r in results if len(r.get("objectives") or {}) == 2]
        assert len(traces["measured"]["x"]) == len([r for r in both if r["sample_id"] not in front])
        pending = [p for p in batch["proposals"] if p["status"] == "pending" and p["predicted"]]
        proposed = traces["pending proposal"]
        assert sorted(proposed["text"]) == sorted(p["id"] for p in pending)
        assert len(proposed["error_x"]["array"]) == len(pending)
        assert all(v > 0 for v in proposed["error_y"]["arrayminus"])
        reference = traces["reference point"]
        assert reference["x"] == [report["reference_point"]["conductivity"]]
        layout = page.evaluate("() => document.getElementById('chart-pareto').layout")
        assert layout["xaxis"]["type"] == "log" and layout["yaxis"]["type"] == "linear"
        assert page.evaluate("() => document.getElementById('pareto-axes').hidden")

        steps = [h for h in report["history"] if h["hypervolume"] is not None]
        until(page, "() => (document.getElementById('chart-hypervolume').data || []).length")
        shown = page.evaluate("() => document.getElementById('chart-hypervolume').data[0].x")
        assert shown == [h["n_results"] for h in steps] and len(shown) >= 2
        assert page.inner_text("#fact-best") == f"{report['hypervolume']:.4g}"

        until(page, "() => document.querySelectorAll('#table-batch tbody tr').length > 0")
        headers = page.locator("#table-batch thead th").all_inner_texts()
        assert "conductivity S/cm (±1 std)" in headers and "relative_density 1 (±1 std)" in headers
        cells = page.locator("#table-batch tbody tr").first.locator("td").all_inner_texts()
        assert any(re.fullmatch(r"\d\.\de[-+]\d+ – \d\.\de[-+]\d+", c) for c in cells), cells
        assert any(re.fullmatch(r"0\.\d+ ± \d\.?\d*(e-\d+)?", c) for c in cells), cells
        columns = page.locator("#table-results thead th").all_inner_texts()
        assert "conductivity (S/cm)" in columns and "relative_density (1)" in columns
        assert page.locator("#table-results tbody tr").count() == len(results)

        assert screenshot(page, "dashboard-pareto.png").stat().st_size > 20_000

        # The slice of one objective's model: the first by default, then the one chosen.
        until(page, "() => (document.getElementById('chart-slice-mean').data || []).length")
        assert page.input_value("#slice-objective") == "conductivity"
        assert page.locator("#chart-slice-acq").count() == 0
        title = "() => document.getElementById('chart-slice-mean').layout.title.text"
        assert page.evaluate(title) == "log10 predicted conductivity"
        page.select_option("#slice-y", "time_min")  # latp-moo's holding time: a log scale
        until(page, "() => document.getElementById('chart-slice-mean').layout.yaxis.type"
                    " === 'log'")  # fmt: skip
        page.select_option("#slice-objective", "relative_density")
        until(page, f"{title} === 'predicted relative_density (1)'")
        shown = page.evaluate("() => document.getElementById('chart-slice-mean').data[0]")
        sliced = client.model_slice(cid, "acid_wt_pct", "time_min", objective="relative_density")
        assert shown["y"] == sliced["y"]["values"] and shown["x"] == sliced["x"]["values"]
        assert np.allclose(shown["z"], sliced["mean"], rtol=1e-9)

        # Live: a new result grows the hypervolume history without a reload.
        new = {**both[-1], "sample_id": "LIVE-MOO"}
        client.post_results(cid, {k: new[k] for k in ("sample_id", "parameters", "objectives")})
        until(page, "() => document.getElementById('chart-hypervolume').data[0].x"
                    f".includes({len(results) + 1})", timeout=60)  # fmt: skip


def test_kiln_pareto_on_the_live_stack(moo_campaign: dict[str, Any]) -> None:
    """`kiln pareto NAME` against the real server: the report's front and hypervolume, as text
    (kept in tests/artifacts/kiln-pareto.txt, the README's example) and as JSON."""
    from click.testing import CliRunner

    from kiln_client.cli import cli

    client: Client = moo_campaign["client"]
    text = CliRunner().invoke(cli, ["pareto", "dashboard-moo"], obj={"client": client})
    assert text.exit_code == 0, text.output
    report = client.pareto(moo_campaign["id"])
    assert f"Hypervolume: {report['hypervolume']:.4g} (log10 S/cm × 1" in text.stdout
    for point in report["front"]:
        assert point["sample_id"] in text.stdout
    assert "Reference point: conductivity 1.000e-04, relative_density 0.9" in text.stdout
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "kiln-pareto.txt").write_text(text.stdout, encoding="utf-8")
    as_json = CliRunner().invoke(cli, ["pareto", moo_campaign["id"], "--json"],
                                 obj={"client": client})  # fmt: skip
    assert json.loads(as_json.stdout)["front"] == report["front"]


def test_a_furnace_campaign_shows_its_constraints_and_runs(browser: Any, stack: Stack) -> None:
    """latp-furnace with two furnaces: the constraints in words, the batch by furnace run (shared
    values once, in the run's heading), a withdrawn pellet with its reason, flagged seeds."""
    client = Client(stack.base_url, stack.admin_token, timeout=30)
    cid = two_furnace_campaign(client, "latp-furnace", "dashboard-furnace")
    client.post_results(cid, VirtualLatpLab().seed_grid())  # 1100 °C for 8 h: 5 break the rule
    batch, _ = wait_for_batch(client, cid, min_data_version=80)
    proposals = batch["proposals"]
    runs = sorted({p["group"] for p in proposals})
    withdrawn = client.withdraw_proposal(cid, proposals[-1]["id"])
    flagged = [r for r in client.list_results(cid) if any(
        f.startswith("breaks constraints.0") for f in r.get("flags") or [])]  # fmt: skip
    assert len(flagged) == 5
    with signed_in_page(browser, stack, cid) as page:
        assert page.inner_text("#constraint-list") == (
            "not (temperature_c >= 1075 and time_min > 240)"
        )
        assert "at most 2 furnace runs" in page.inner_text("#sharing-note")

        until(page, "() => document.querySelectorAll('#table-batch tr.group').length > 0")
        headings = page.locator("#table-batch tr.group").all_inner_texts()
        assert len(headings) == len(runs)
        for run, heading in zip(runs, headings, strict=True):
            members = [p for p in proposals if p["group"] == run]
            t, m = members[0]["parameters"]["temperature_c"], members[0]["parameters"]["time_min"]
            assert heading == f"Furnace run {run + 1}: {t:g} °C, {m:g} min · {len(members)} pellets"
        columns = page.locator("#table-batch thead th").all_inner_texts()
        assert "acid_wt_pct" in columns and "temperature_c" not in columns  # once, in the heading
        ids = page.locator(
            "#table-batch tbody tr:not(.group) td:first-child code"
        ).all_inner_texts()
        assert ids == [p["id"] for run in runs for p in proposals if p["group"] == run]

        until(page, "() => document.querySelector('#table-batch .badge.withdrawn')")
        row = page.locator(
            "#table-batch tbody tr", has=page.locator(f"code:text-is('{withdrawn['id']}')")
        )
        assert withdrawn["reason"] in row.inner_text()

        until(page, "() => document.querySelectorAll('#table-results tbody tr').length >= 80")
        badges = page.locator("#table-results .badge.broken")
        assert badges.count() == len(flagged)
        assert badges.first.inner_text() == "breaks constraints.0"
        assert "time_min > 240" in (badges.first.get_attribute("title") or "")
        screenshot(page, "dashboard-furnace.png")


#: A small two-parameter space for campaigns made up in a test.
GRID = [
    {"name": "temperature_c", "kind": "continuous", "low": 800.0, "high": 1100.0, "step": 25.0},
    {"name": "time_min", "kind": "discrete", "values": [10.0, 30.0, 60.0, 120.0]},
]


def test_three_objectives_offer_a_choice_of_axes(browser: Any, stack: Stack) -> None:
    """With 3 objectives the Pareto plot has an axis selector; choosing the third objective
    redraws the plot on it (a minimised, linear objective), with no console error."""
    client = Client(stack.base_url, stack.admin_token, timeout=30)
    cost = {"name": "cost", "unit": "EUR", "goal": "minimize", "transform": "none"}
    density = {"name": "relative_density", "unit": "1", "transform": "none"}
    campaign = client.create_campaign({
        "name": "dashboard-three", "parameters": GRID,
        "objectives": [{"name": "conductivity", "unit": "S/cm"}, density, cost],
    })  # fmt: skip
    cid = campaign["id"]
    values = [(1e-4, 0.95, 12.0), (1e-3, 0.90, 20.0), (5e-5, 0.97, 8.0), (2e-5, 0.85, 30.0)]
    client.post_results(cid, [
        {"sample_id": f"T-{i}", "parameters": {"temperature_c": 900 + 25 * i, "time_min": 30},
         "objectives": {"conductivity": c, "relative_density": d, "cost": e}}
        for i, (c, d, e) in enumerate(values)
    ])  # fmt: skip
    with signed_in_page(browser, stack, cid) as page:
        until(page, "() => (document.getElementById('chart-pareto').data || []).length >= 2")
        assert not page.evaluate("() => document.getElementById('pareto-axes').hidden")
        page.select_option("#pareto-y", "cost")
        until(page, "() => document.getElementById('chart-pareto').layout.yaxis.title.text"
                    " == 'cost (EUR)'")  # fmt: skip
        front = page.evaluate(
            "() => document.getElementById('chart-pareto').data"
            ".find(t => t.name == 'Pareto front').y"
        )
        # T-3 is dominated in every objective; the others are each best at something.
        assert sorted(front) == [8.0, 12.0, 20.0]
        assert "a front point may look dominated in this pair" in page.inner_text("#pareto-note")


def test_a_multi_objective_batch_in_furnace_runs(browser: Any, stack: Stack) -> None:
    """latp-moo with two furnaces: the batch table has a run heading row spanning every column
    (a prediction column per objective included) and no shared column."""
    client = Client(stack.base_url, stack.admin_token, timeout=30)
    cid = two_furnace_campaign(client, "latp-moo", "dashboard-moo-furnace")
    seed = [as_objectives(r) for r in VirtualLatpLab().seed_grid()[::4]]
    client.post_results(cid, seed)
    batch, _ = wait_for_batch(client, cid, min_data_version=len(seed))
    runs = {p["group"] for p in batch["proposals"]}
    assert all(p["predicted"] for p in batch["proposals"])
    with signed_in_page(browser, stack, cid) as page:
        until(page, "() => document.querySelectorAll('#table-batch tbody tr.group').length")
        headers = page.locator("#table-batch thead th").all_inner_texts()
        assert "temperature_c" not in headers and "time_min" not in headers
        assert "conductivity S/cm (±1 std)" in headers and "relative_density 1 (±1 std)" in headers
        spans = page.locator("#table-batch tbody tr.group th").evaluate_all(
            "cells => cells.map(c => c.colSpan)"
        )
        assert len(spans) == len(runs) and set(spans) == {len(headers)}
        screenshot(page, "dashboard-moo-furnace.png")
