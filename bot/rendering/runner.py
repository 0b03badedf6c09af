"""Runs ffmpeg as an asyncio child in its own process group, at lower priority, killable.

Never blocks the event loop. Must not import Telegram, storage or the job engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.rendering.errors import FfmpegFailed, RenderTimedOut
from bot.rendering.progress import ProgressParser

ProgressCallback = Callable[[float], None]

# The only variables of the bot's environment an ffmpeg child gets (docs/architecture.md §8.1):
# what it needs to find programs, libraries, temp space, locale and fonts. Never the bot token,
# the API key or anything else the bot was configured with.
CHILD_ENV_NAMES = frozenset(
    {
        "PATH",
        "HOME",
        "TMPDIR",
        "TMP",
        "TEMP",
        "LANG",
        "LANGUAGE",
        "LC_ALL",
        "LC_CTYPE",
        "TZ",
        "LD_LIBRARY_PATH",
        "XDG_CACHE_HOME",
        "XDG_DATA_HOME",
        "XDG_DATA_DIRS",
        "XDG_CONFIG_HOME",
    }
)
CHILD_ENV_PREFIXES = ("FONTCONFIG_",)
KILL_GRACE_SECONDS = 2.0
NICENESS = 10
_STDERR_KEEP = 256 * 1024  # bytes of stderr kept (the probe parser reads all of a short one)
_READ_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class Completed:
    """A finished ffmpeg run: its exit code, captured stdout and the tail of stderr."""

    returncode: int
    stdout: bytes
    stderr: str


@dataclass(frozen=True, slots=True)
class Ffmpeg:
    """How to start ffmpeg: the binary, extra environment (fontconfig) and niceness.

    Lower priority comes from the `nice` program when it is on PATH (it execs ffmpeg, so the
    pid and process group stay the same and every thread ffmpeg starts inherits the value);
    `preexec_fn` is avoided because it is unsafe with threads and refused by some asyncio
    setups. Without `nice`, `os.setpriority` lowers the group right after the start.
    """

    binary: Path
    env: Mapping[str, str] = field(default_factory=dict)
    niceness: int = NICENESS

    def _argv(self, args: Sequence[str]) -> list[str]:
        nice = shutil.which("nice")
        prefix = [nice, "-n", str(self.niceness)] if nice and self.niceness else []
        # ffmpeg dies with us, even when we are killed with SIGKILL and cannot kill its group
        # (a render worker killed -9, docs/architecture.md §8.8): util-linux's setpriv sets
        # the parent-death signal and execs, like nice.
        setpriv = shutil.which("setpriv")
        guard = [setpriv, "--pdeathsig", "KILL"] if setpriv else []
        return [*guard, *prefix, str(self.binary), "-hide_banner", "-nostdin", *args]

    async def run(
        self,
        args: Sequence[str],
        *,
        time_limit: float,
        check: bool = True,
        progress: tuple[float, ProgressCallback] | None = None,
    ) -> Completed:
        """Run ffmpeg with `args`; `progress=(duration, callback)` reports fractions 0..1."""
        extra = ["-progress", "pipe:1", "-nostats"] if progress else []
        argv = self._argv([*extra, *args])
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # own process group: killed as a whole
            env={**child_environment(os.environ), **self.env},
        )
        if not prefix_nice(argv):
            _lower_priority(proc.pid, self.niceness)
        stderr = bytearray()
        stdout_reader = asyncio.create_task(_read_stdout(proc, progress))
        readers: list[asyncio.Task[Any]] = [
            stdout_reader,
            asyncio.create_task(_read_stderr(proc, stderr)),
        ]
        try:
            async with asyncio.timeout(time_limit):
                await proc.wait()
                await asyncio.gather(*readers)
        except TimeoutError:
            await _stop(proc, readers)
            raise RenderTimedOut(time_limit, _tail(stderr)) from None
        except BaseException:  # cancellation or shutdown: never leave ffmpeg running
            await asyncio.shield(_stop(proc, readers))
            raise
        done = Completed(proc.returncode or 0, stdout_reader.result(), _tail(stderr))
        if check and done.returncode != 0:
            raise FfmpegFailed(done.returncode, done.stderr[-2000:])
        return done


def prefix_nice(argv: Sequence[str]) -> bool:
    """Whether `nice` starts ffmpeg (then its niceness is set already)."""
    return any(part.endswith("/nice") or part == "nice" for part in argv[:4])


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The part of `environ` an ffmpeg child may see (CHILD_ENV_NAMES, FONTCONFIG_*)."""
    return {
        name: value
        for name, value in environ.items()
        if name in CHILD_ENV_NAMES or name.startswith(CHILD_ENV_PREFIXES)
    }


def _lower_priority(pid: int, niceness: int) -> None:
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PGRP, pid, niceness)


async def _read_stdout(
    proc: asyncio.subprocess.Process, progress: tuple[float, ProgressCallback] | None
) -> bytes:
    assert proc.stdout is not None
    if progress is None:
        return await proc.stdout.read()
    duration, callback = progress
    parser = ProgressParser(duration)
    while line := await proc.stdout.readline():
        if parser.feed(line.decode("ascii", "replace")):
            callback(parser.fraction)
    return b""


async def _read_stderr(proc: asyncio.subprocess.Process, sink: bytearray) -> None:
    assert proc.stderr is not None
    while chunk := await proc.stderr.read(_READ_CHUNK):
        sink += chunk
        if len(sink) > _STDERR_KEEP:
            del sink[: len(sink) - _STDERR_KEEP]


def _tail(stderr: bytearray) -> str:
    return stderr.decode("utf-8", "replace")


def _signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


async def _stop(proc: asyncio.subprocess.Process, readers: list[asyncio.Task[Any]]) -> None:
    """SIGTERM the whole group, SIGKILL it after a short grace, reap the child."""
    if proc.returncode is None:
        _signal_group(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), KILL_GRACE_SECONDS)
        except TimeoutError:
            _signal_group(proc.pid, signal.SIGKILL)
            await proc.wait()
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
