"""What a benchmark records about the machine it ran on: cores, memory, Python, load.

The benchmark machine may be shared (other jobs on the same cores), so each run records the load
average before and after it; the README quotes it with the numbers.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (os.getloadavg), rounded."""
    return [round(x, 2) for x in os.getloadavg()]


def memory_gib() -> float | None:
    """Total memory in GiB (Linux /proc/meminfo), or None elsewhere."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def code_revision() -> str | None:
    """The commit whose code is measured: $KILN_BENCH_COMMIT (set when running a snapshot),
    else `git describe --always --dirty` of this checkout."""
    if os.environ.get("KILN_BENCH_COMMIT"):
        return os.environ["KILN_BENCH_COMMIT"]
    try:
        done = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def describe() -> dict[str, Any]:
    """Cores, memory, OS, Python, the current load average and the code's commit."""
    return {
        "commit": code_revision(),
        "cpus": os.cpu_count(),
        "memory_gib": memory_gib(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "load_average": load_average(),
    }


def summary(info: dict[str, Any]) -> str:
    """One line for a benchmark's header."""
    return (
        f"{info['cpus']} CPUs, {info['memory_gib']} GiB, {info['platform']}, "
        f"Python {info['python']}, load average {info['load_average']}, code {info['commit']}"
    )


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            text = fh.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces; the fields after its ")" are fixed.
    return text[text.rfind(")") + 2 :].split()


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants (Linux /proc; just [root] elsewhere)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields:
                parents[int(entry)] = int(fields[1])
    tree, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, ppid in parents.items() if ppid in frontier]
        tree.extend(frontier)
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the given processes have used so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks
