"""Shared by the process-level benchmarks: CPU time and memory of a child, the bot's environment."""

from __future__ import annotations

import os
from pathlib import Path

from tests.e2e.processes import free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
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
    """`python -m bot` against the fakes, in callback mode, with this checkout's code; the
    environment and the bot's base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(REPO_ROOT),  # this checkout, not whichever one .venv has installed
        "PTB_TIMEDELTA": "true",
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": f"{telegram_url}/bot",
        "TELEGRAM_API_FILE_URL": f"{telegram_url}/file/bot",
        "MUSIC_API_PROVIDER": "kie",
        "MUSIC_API_KEY": api_key,
        "MUSIC_API_BASE_URL": upstream_url,
        "PUBLIC_BASE_URL": base,
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(port),
        "DATABASE_PATH": str(workdir / "bot.sqlite3"),
        "QUOTA_PER_HOUR": "100000",
        "LOG_LEVEL": "WARNING",
    }
    return env, base
