#!/usr/bin/env python3
"""Task runner: `python3 dev.py check` (the whole CI gate), `python3 dev.py run` (the bot).

Needs only Python >= 3.11: it creates `.venv/` beside this file and installs the project into it,
reinstalling only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed-from"


def _wanted_stamp() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_venv() -> None:
    """Create the virtual environment and install the project (with dev extras) if stale."""
    if sys.version_info < (3, 11):  # noqa: UP036 - a clear message for an old interpreter
        sys.exit("Python 3.11 or newer is required")
    if not PYTHON.exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if STAMP.exists() and STAMP.read_text() == _wanted_stamp():
        return
    print("installing dependencies into .venv …", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(_wanted_stamp())


def _step(name: str, *args: str) -> bool:
    started = time.monotonic()
    print(f"\n=== {name}", flush=True)
    env = {**os.environ, "PYTHONDEVMODE": "1"} if name == "pytest" else None
    code = subprocess.run([str(BIN / args[0]), *args[1:]], cwd=ROOT, env=env, check=False)
    print(
        f"=== {name}: {'ok' if code.returncode == 0 else 'FAILED'} "
        f"({time.monotonic() - started:.1f}s)",
        flush=True,
    )
    return code.returncode == 0


def check(pytest_args: list[str]) -> int:
    """Format check, lint, type check, Dockerfile lint, tests; non-zero exit if any fails."""
    ensure_venv()
    results = [
        _step("ruff format", "ruff", "format", "--check", "."),
        _step("ruff check", "ruff", "check", "."),
        _step("mypy", "mypy"),
        # The default threshold already fails on any finding; spelled out so a config file
        # cannot lower it.
        _step("hadolint", "hadolint", "--failure-threshold", "info", "Dockerfile"),
        _step("pytest", "pytest", *pytest_args),
    ]
    return 0 if all(results) else 1


def run() -> int:
    """Run the bot (configuration from the environment and `.env`)."""
    ensure_venv()
    os.chdir(ROOT)
    os.execv(str(PYTHON), [str(PYTHON), "-m", "bot"])  # noqa: S606 - replaces this process


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"check", "run"}:
        print("usage: python3 dev.py check [pytest args…] | python3 dev.py run", file=sys.stderr)
        return 2
    return check(argv[1:]) if argv[0] == "check" else run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
