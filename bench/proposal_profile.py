"""Where bench-proposal's target cell spends memory and time: the peak RSS of one batch in a
fresh process (``proposal.py --child``) and a pyinstrument profile of Kiln's refit + batch."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
from harness.profiles import profile_to_file
from proposal_cases import TARGET, candidates_for, run_kiln, run_naive, run_skopt

from kiln.model.surrogate import GPSurrogate

#: The script a memory measurement runs in a fresh process (its hidden ``--child`` option).
SCRIPT = Path(__file__).resolve().with_name("proposal.py")


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one case once in this (fresh) process and report its peak memory."""
    data = np.load(spec["data"])
    X, y = data["X"], data["y"]
    model = GPSurrogate.from_dict(json.loads(Path(spec["model"]).read_text()))
    C = candidates_for(spec["N"])
    method, q = spec["method"], spec["q"]
    rows = C.tolist() if method == "skopt" else None
    before = _rss_kib("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        reset = True
    except OSError:
        reset = False
    if method == "kiln":
        run_kiln(model, C, q)
    elif method == "naive":
        run_naive(model, C, q)
    else:
        assert rows is not None
        run_skopt(rows, X, y, q, seed=0)
    peak = _rss_kib("VmHWM")
    return {
        "rss_before_mib": before / 1024,
        "peak_rss_mib": peak / 1024,
        "peak_above_before_mib": (peak - before) / 1024,
        "hwm_reset": reset,
    }


def measure_memory(spec: dict[str, Any]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--child", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def profile_target(
    models: dict[int, GPSurrogate],
    data: dict[int, tuple[np.ndarray, np.ndarray]],
    candidates: dict[int, np.ndarray],
    out: Path,
) -> dict[str, Any]:
    """pyinstrument over Kiln's target cell (warm refit + batch, three times)."""
    n, N, q = TARGET["n"], TARGET["N"], TARGET["q"]
    X, y = data[n]
    before = GPSurrogate(n_restarts=0).fit(X[:-1], y[:-1], start=models[n])

    def work() -> None:
        for _ in range(3):
            model = GPSurrogate(n_restarts=0).fit(X, y, start=before)
            run_kiln(model, candidates[N], q)

    path = out / "proposal-profile.txt"
    out.mkdir(parents=True, exist_ok=True)
    profiler = profile_to_file(work, path, interval=0.001, unicode=False)
    session = profiler.last_session
    assert session is not None
    root = session.root_frame()
    shares: dict[str, float] = {}

    wanted = {"fit", "log_marginal_likelihood", "select_batch", "_evaluate", "matern52"}

    def walk(frame: Any, active: frozenset[str] = frozenset()) -> None:
        key = f"{frame.function} ({Path(frame.file_path or '').name})"
        if frame.function in wanted and key not in active:  # outermost call only
            shares[key] = shares.get(key, 0.0) + frame.time
            active = active | {key}
        for child_frame in frame.children:
            walk(child_frame, active)

    if root is not None:
        walk(root)
    total = root.time if root is not None else 0.0
    print(f"\nprofile of Kiln's target cell (3 x warm refit + batch, {total:.2f} s): {path}")
    for key, t in sorted(shares.items(), key=lambda kv: -kv[1])[:8]:
        print(f"  {t / max(total, 1e-9):6.1%}  {key}")
    return {"file": str(path), "total_s": total, "inclusive_s": shares}
