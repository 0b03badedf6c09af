"""Saving a file a user sent to Telegram onto our disk, without blocking the event loop.

python-telegram-bot's `File.download_to_drive` writes the whole body with `Path.write_bytes`
(or, from a local Bot API server, copies the file with `shutil.copyfile`) in the calling
thread: up to 20 MB (2 GB locally) of disk I/O on the event loop. Here the body comes over the
network as before and the disk part runs in a worker thread. Must not import storage or the
job engine.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from telegram import File


async def save_telegram_file(file: File, path: Path) -> None:
    """Write `file` (from `getFile`) to `path`; the disk I/O runs off the event loop."""
    source = file.file_path
    if source is not None and await asyncio.to_thread(_is_local_file, source):
        await asyncio.to_thread(shutil.copyfile, source, path)  # a local Bot API server's copy
        return
    body = await file.download_as_bytearray()
    await asyncio.to_thread(path.write_bytes, body)


def _is_local_file(file_path: str) -> bool:
    """Whether `getFile` named a file on this machine (a local Bot API server), not a URL path."""
    return os.path.isabs(file_path) and os.path.isfile(file_path)
