"""The job engine's import rules (docs/architecture.md §1.1, §8.2), read from the source with
`ast`: no module under bot/engine imports Telegram I/O, texts or handlers, directly or through
other modules of ours, and rendering's modules never reach the provider client or the
preparation."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "bot" / "engine"
FORBIDDEN_IN_ENGINE = ("telegram", "bot.telegram_io", "bot.text", "handlers")
# Rendering reads only the plan and the row: the future worker has no provider key.
RENDERING = (
    "bot.engine.render_jobs",
    "bot.engine.render_sources",
    "bot.engine.render_plan",
    "bot.engine.render_workdirs",
)
FORBIDDEN_IN_RENDERING = ("bot.upstream.client", "bot.engine.render_preparation")


def imported_names(path: Path) -> set[str]:
    """Every module a file imports, at any depth of its code (`from a import b` gives both
    `a` and `a.b`, since `b` may be a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def is_under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def source_of(module: str) -> Path | None:
    """The file of one of our modules (a package's __init__.py); None for anything else."""
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def reachable(module: str) -> set[str]:
    """Our modules `module` imports, directly or through others (parent packages included)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        path = source_of(current)
        if current in seen or path is None:
            continue
        seen.add(current)
        for name in imported_names(path):
            parts = name.split(".")
            todo.extend(".".join(parts[:end]) for end in range(1, len(parts) + 1))
    return seen


def test_the_engine_imports_no_telegram_io_texts_or_handlers() -> None:
    found = {
        f"{path.name}: {name}"
        for path in sorted(ENGINE.glob("*.py"))
        for name in imported_names(path)
        if is_under(name, FORBIDDEN_IN_ENGINE)
    }
    assert sorted(found) == []


def test_nor_does_any_module_the_engine_reaches() -> None:
    """Not through a helper either: every module of ours an engine module imports, at any
    depth, is held to the same rule."""
    found = set()
    for path in sorted(ENGINE.glob("*.py")):
        for module in reachable(f"bot.engine.{path.stem}"):
            source = source_of(module)
            assert source is not None
            found |= {
                f"{path.name} -> {module}: {name}"
                for name in imported_names(source)
                if is_under(name, FORBIDDEN_IN_ENGINE)
            }
    assert sorted(found) == []


@pytest.mark.parametrize("module", RENDERING)
def test_rendering_never_reaches_the_provider_client_or_the_preparation(module: str) -> None:
    assert source_of(module) is not None
    found = sorted(name for name in reachable(module) if is_under(name, FORBIDDEN_IN_RENDERING))
    assert found == []


def test_the_import_walk_sees_what_a_module_imports() -> None:
    """The walk itself: the preparation does reach the provider client."""
    assert "bot.upstream.client" in reachable("bot.engine.render_preparation")
