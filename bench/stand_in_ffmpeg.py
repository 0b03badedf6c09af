"""A stand-in encoder for the render-scaling benchmark (bench only, never product code).

On a 2-core machine real ffmpeg cannot show that renders scale with worker machines: three
workers share the same two cores. `write_stand_in` writes an executable that the bench passes
as `FFMPEG_BINARY`: every call goes to the real ffmpeg of the imageio-ffmpeg wheel, except the
render's encode (the one call with `-progress`), which sleeps as long as a render on a machine
of its own would take and then writes a valid small MP4: the first encode of a kind is made for
real and kept, later ones of the same kind (the same arguments but for the files' folders) copy
it. So the encode costs no CPU and N workers on this machine behave like N machines; the output
is probed, thumbnailed and uploaded like any other.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import imageio_ffmpeg

SECONDS_VARIABLE = "STAND_IN_RENDER_SECONDS"
CACHE_VARIABLE = "STAND_IN_CACHE"


def write_stand_in(folder: Path, render_seconds: float) -> Path:
    """An executable in `folder` that runs this file with the venv's Python (by path: the
    renderer gives ffmpeg a trimmed environment, without PYTHONPATH); encodes are kept in
    `folder`/stand-in-cache."""
    cache = folder / "stand-in-cache"
    cache.mkdir(exist_ok=True)
    script = folder / "stand-in-ffmpeg"
    script.write_text(
        "#!/bin/sh\n"
        f'{SECONDS_VARIABLE}={render_seconds} {CACHE_VARIABLE}="{cache}"'
        f' exec "{sys.executable}" "{Path(__file__).resolve()}" "$@"\n'
    )
    script.chmod(0o755)
    return script


def _kind(args: list[str]) -> str:
    """The encode's arguments with every path reduced to its file name: renders of the same
    format and options are one kind whatever their work dirs."""
    plain = [Path(arg).name if arg.startswith("/") else arg for arg in args]
    return hashlib.sha256("\0".join(plain).encode()).hexdigest()[:16]


def main(args: list[str]) -> None:
    real = imageio_ffmpeg.get_ffmpeg_exe()
    if "-progress" not in args:
        os.execv(real, [real, *args])  # noqa: S606 - the wheel's ffmpeg, with the caller's args
    time.sleep(float(os.environ.get(SECONDS_VARIABLE, "5")))  # as slow as a render, no CPU
    output = Path(args[-1])
    kept = Path(os.environ[CACHE_VARIABLE]) / f"{_kind(args)}{output.suffix}"
    if not kept.exists():
        done = subprocess.run([real, *args], check=False)  # noqa: S603 - as above
        if done.returncode != 0:
            sys.exit(done.returncode)
        partial = kept.with_suffix(f".{os.getpid()}.part")
        shutil.copyfile(output, partial)
        partial.replace(kept)  # atomic: another worker never copies half a file
        return
    shutil.copyfile(kept, output)


if __name__ == "__main__":
    main(sys.argv[1:])
