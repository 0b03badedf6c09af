"""The Docker files keep what the README promises (no YAML parser here: plain text checks)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_compose_runs_the_bot_with_env_file_volume_and_port() -> None:
    compose = (ROOT / "docker-compose.yml").read_text()
    assert re.search(r"^\s+env_file:\s*\.env\s*$", compose, re.MULTILINE)
    assert re.search(r"^\s+- botdata:/data\s*$", compose, re.MULTILINE)
    assert re.search(r"^volumes:\s*\n\s+botdata:", compose, re.MULTILINE)
    assert '"8080:8080"' in compose
    assert "restart: unless-stopped" in compose
    assert "DATABASE_PATH: /data/bot.sqlite3" in compose


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
