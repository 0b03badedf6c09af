"""A stand-in encoder for the render-scaling benchmark (bench only, never product code).

On a 2-core machine real ffmpeg cannot show that renders scale with worker machines: three
workers share the same two cores. `write_stand_in` writes an executable that the bench passes
as `FFMPEG_BINARY`: every call goes to the real ffmpeg of the imageio-ffmpeg wheel, except the
render's encode (the one call with `-progress`), which first sleeps as long as a render on a
machine of its own would take and then encodes the short clip for real — so the output is a
valid small MP4, probed and uploaded like any other. The sleep costs no CPU, so N workers on
this machine behave like N machines.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import imageio_ffmpeg

SECONDS_VARIABLE = "STAND_IN_RENDER_SECONDS"


def write_stand_in(folder: Path, render_seconds: float) -> Path:
    """An executable in `folder` that runs this file with the venv's Python (by path: the
    renderer gives ffmpeg a trimmed environment, without PYTHONPATH)."""
    script = folder / "stand-in-ffmpeg"
    script.write_text(
        "#!/bin/sh\n"
        f'{SECONDS_VARIABLE}={render_seconds} exec "{sys.executable}" "{Path(__file__).resolve()}"'
        ' "$@"\n'
    )
    script.chmod(0o755)
    return script


def main(args: list[str]) -> None:
    real = imageio_ffmpeg.get_ffmpeg_exe()
    if "-progress" in args:  # the encode: as slow as a real render, without the CPU
        time.sleep(float(os.environ.get(SECONDS_VARIABLE, "5")))
    os.execv(real, [real, *args])  # noqa: S606 - the wheel's ffmpeg, with the caller's args


if __name__ == "__main__":
    main(sys.argv[1:])
