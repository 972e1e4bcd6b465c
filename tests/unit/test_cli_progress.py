"""`kiln benchmark` says how long the job should take, then the share done and the time left
(issue 14 item 7); the server is played by tests/unit/fake_kiln.py."""

from __future__ import annotations

from click.testing import CliRunner
from fake_kiln import FakeServer, client_with

from kiln_client.cli import cli
from kiln_client.cli.eta import about, progress_line, seconds_left

CID = "0123456789abcdef0123456789abcdef"


def test_durations_read_as_a_person_says_them() -> None:
    assert about(20) == "under a minute"
    assert about(250) == "about 4 min"
    assert about(7800) == "about 2 h 10 min"


def test_the_time_left_is_the_estimate_first_then_the_pace_of_the_repeats_done() -> None:
    planned = {"done": 0, "total": 100, "chunks_done": 0, "estimated_seconds": 300.0}
    assert seconds_left(planned, 60) == 240
    assert progress_line(planned, 60) == "0 % · about 4 min left"
    running = {**planned, "done": 35}  # 35 repeats in 130 s: 65 more take about 241 s
    assert progress_line(running, 130) == "35 % · about 4 min left"
    assert progress_line({"done": 35, "total": 100}, 130) == "35 % · about 4 min left"
    assert progress_line({"done": 0, "total": 100}, 5) == "0 %"  # nothing estimates it yet
    assert progress_line({"done": 100, "total": 100, "estimated_seconds": 9.0}, 9) == "100 %"


def test_kiln_benchmark_says_the_estimate_before_the_repeats_run() -> None:
    job = {"id": "j1", "kind": "benchmarks", "state": "queued", "progress": None}
    planned = {"done": 0, "total": 6400, "chunks_done": 0, "chunks_total": 400}
    running = {**job, "state": "running", "progress": {**planned, "estimated_seconds": 721.0}}
    result = {"table": {"ucb": {"5": {"found": 2, "runs": 2, "mean_extra_tries": 3.0}}},
              "pool_size": 80, "repeats": 2}  # fmt: skip
    done = {**running, "state": "done", "result": result,
            "progress": {**planned, "done": 6400, "estimated_seconds": 721.0}}  # fmt: skip
    server = FakeServer(
        (202, job, {}), (200, job, {}), (200, running, {}), (200, running, {}), (200, done, {})
    )
    client, _ = client_with(server)
    answer = CliRunner().invoke(cli, ["benchmark", CID], obj={"client": client})
    assert answer.exit_code == 0, answer.output
    assert "6400 repeats, estimated at about 12 min" in answer.stderr
    assert "Virtual experiments on 80 results" in answer.stdout
