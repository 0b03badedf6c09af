"""Shared by the process-level benchmarks: CPU time and memory of a child, the bot's environment."""

from __future__ import annotations

import os
from pathlib import Path

from tests.e2e.processes import bot_process_env, free_port

_TICKS = os.sysconf("SC_CLK_TCK")
MIB = 2**20


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far (its own, not its children's)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime


def memory_mib(pid: int, key: str = "VmRSS") -> float:
    """A /proc/<pid>/status figure in MiB: VmRSS (resident now) or VmHWM (resident peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) * 1024 / MIB
    raise KeyError(key)


def bot_environment(
    workdir: Path, telegram_url: str, upstream_url: str, token: str, api_key: str
) -> tuple[dict[str, str], str]:
    """`python -m bot` against the fakes, in callback mode, with this checkout's code (the
    tests' environment, tests/e2e/processes.py, at the default poll interval and quiet logs);
    the environment and the bot's base URL."""
    port = free_port()
    env = bot_process_env(
        workdir,
        token=token,
        api_key=api_key,
        telegram_url=telegram_url,
        upstream_url=upstream_url,
        bot_port=port,
        PTB_TIMEDELTA="true",
        POLL_INTERVAL_SECONDS="30",  # the default: a bench measures the bot as deployed
        QUOTA_PER_HOUR="100000",
        LOG_LEVEL="WARNING",
    )
    return env, env["PUBLIC_BASE_URL"]
