"""Every benchmark figure the issues ask for, each with its goal: `python -m bench [--quick]`.

Runs each benchmark script of this folder as its own process (so one's memory does not count
in the next), echoes what it prints and ends with a summary of the lines that carry a goal.
`--quick` uses smaller sizes (about two and a half minutes instead of about eight); `--only NAME,…`
runs some sections. `python3 dev.py bench` runs this in the project's virtual environment.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]


class Section(NamedTuple):
    """One benchmark script and its arguments, full and quick."""

    name: str
    title: str
    module: str
    full: tuple[str, ...]
    quick: tuple[str, ...]


SECTIONS = (
    Section("cpu", "CPU per job and per bare echo", "bench.cpu_per_job", ("100",), ("40",)),
    Section("telegram", "Telegram budget", "bench.telegram_budget", ("1000",), ("200",)),
    Section("latency", "Callback latency", "bench.job_latency", ("100",), ("20",)),
    Section("pending", "RSS with many pending jobs", "bench.pending_rss", ("10000", "20"),
            ("2000", "10")),
    Section("relay", "Relay memory", "bench.relay_rss", ("10", "45", "90"), ("45",)),
    Section("render", "Render speed", "bench.render_speed", ("180",), ("30",)),
    Section("analysis", "Music analysis cost", "bench.analysis_cost", ("180", "3"), ("180", "1")),
    Section("loop", "Canvas loop render", "bench.loop_render", ("180", "3"), ("180", "1")),
    Section("kill9", "kill -9 fault run", "bench.kill9", ("100", "17"), ("30", "6")),
    Section("dispatch", "Render dispatch (PostgreSQL)", "bench.render_dispatch", ("200", "20"),
            ("60", "20")),
    Section("workers", "Render workers: scaling and a worker kill", "bench.render_workers",
            ("24", "8", "100", "4"), ("9", "6", "30", "4")),
    Section("history", "Costs that grow with history", "bench.history_costs", ("100000",),
            ("100000",)),
    Section("leader", "Leader kill while commands arrive", "bench.leader_kill", ("200", "20"),
            ("60", "10")),
)  # fmt: skip


def _machine() -> str:
    memory = "?"
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 2**20:.0f} GiB"
    return f"{os.cpu_count()} cores, {memory}, Python {platform.python_version()}"


def _run(section: Section, quick: bool) -> tuple[bool, list[str]]:
    """Run one section, echoing its output; (succeeded, its lines)."""
    args = section.quick if quick else section.full
    command = [sys.executable, "-m", section.module, *args]
    started = time.monotonic()
    print(f"\n=== {section.title} ({' '.join(command[1:])})", flush=True)
    lines: list[str] = []
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) as process:  # noqa: S603 - fixed argv
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line.rstrip("\n"))
    ok = process.returncode == 0
    print(f"=== {section.name}: {'ok' if ok else 'FAILED'} ({time.monotonic() - started:.0f} s)")
    return ok, lines


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, about 2 minutes")
    names = ",".join(s.name for s in SECTIONS)
    parser.add_argument("--only", default=names, help=f"comma-separated sections ({names})")
    options = parser.parse_args(argv)
    wanted = set(options.only.split(","))
    unknown = wanted - {s.name for s in SECTIONS}
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    today = dt.datetime.now(dt.UTC).date()
    print(f"bench {today} on {_machine()}{' (quick)' if options.quick else ''}")
    failed, figures = [], []
    for section in SECTIONS:
        if section.name in wanted:
            ok, lines = _run(section, options.quick)
            figures += [line for line in lines if "(goal:" in line]
            if not ok:
                failed.append(section.name)
    print("\n=== Figures")
    for line in figures:
        print(f"- {line.strip()}")
    if failed:
        print(f"FAILED sections: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
