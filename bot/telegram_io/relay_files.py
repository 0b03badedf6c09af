"""The relay's temp files: one folder beside the database, emptied at every start.

Delivery's download-then-upload (docs/architecture.md §6.1) keeps the video in a file here while
it streams it to Telegram; a run killed mid-relay leaves it behind, so the start sweeps the
folder. Files only: must not import Telegram, storage or the job engine.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

RELAY_FOLDER = "relay"  # beside DATABASE_PATH, like the render work dirs
_PREFIX = "job"
_SUFFIX = ".mp4"


class RelayFiles:
    """Makes the relay's temp files in `folder` and removes what a previous run left there."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def beside(cls, database_path: Path) -> RelayFiles:
        """The relay folder of the data folder that holds `database_path`."""
        return cls(database_path.parent / RELAY_FOLDER)

    def create(self, job_id: int) -> tuple[int, Path]:
        """A new empty file for `job_id`'s video, open for writing: (descriptor, path).

        Synchronous on purpose (two quick system calls, no data): awaiting a thread here could
        be cancelled after the file was made and leave it without an owner."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f"{_PREFIX}{job_id}-", suffix=_SUFFIX, dir=self.folder)
        return fd, Path(name)

    async def sweep(self) -> int:
        """Remove the files a previous run left (call before any relay starts); how many."""
        return await asyncio.to_thread(self._sweep)

    def _sweep(self) -> int:
        if not self.folder.is_dir():
            return 0
        removed = 0
        for entry in os.scandir(self.folder):
            if entry.is_file(follow_symlinks=False) and _is_relay_file(entry.name):
                Path(entry.path).unlink(missing_ok=True)
                removed += 1
        return removed


def _is_relay_file(name: str) -> bool:
    return name.startswith(_PREFIX) and name.endswith(_SUFFIX)
