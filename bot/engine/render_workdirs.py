"""A render's work dirs (`data/renders/job<id>/`): found, made fresh, removed.

Shared by rendering and delivery; must not import Telegram, bot.text or handlers.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def work_dir_of(output_path: str | None) -> Path | None:
    """The per-job work dir holding a rendered file (None when there is none)."""
    if output_path is None:
        return None
    folder = Path(output_path).parent
    return folder if folder.name.startswith("job") else None


def remove_work_dir(folder: Path | None) -> None:
    """Delete a job's work dir. Synchronous on purpose: it also runs while a task is being
    cancelled, where an await could be interrupted."""
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def job_dirs(root: Path) -> list[tuple[int, Path]]:
    """The job work dirs under `root` with their job ids."""
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        number = folder.name.removeprefix("job")
        if folder.is_dir() and folder.name.startswith("job") and number.isdigit():
            found.append((int(number), folder))
    return found


def fresh_dir(folder: Path) -> None:
    """An empty work dir for an attempt (a previous attempt's leftovers go)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
