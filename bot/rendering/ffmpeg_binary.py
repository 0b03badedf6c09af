"""Where the default ffmpeg lives: the imageio-ffmpeg wheel's static build (FFMPEG_BINARY)."""

from __future__ import annotations

from pathlib import Path

import imageio_ffmpeg

NOT_FOUND = Path("ffmpeg-not-found")


def default_ffmpeg_binary() -> Path:
    """The wheel's ffmpeg (it honours IMAGEIO_FFMPEG_EXE); NOT_FOUND when there is none."""
    try:
        return Path(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError:  # no binary for this platform: reported as a configuration error
        return NOT_FOUND
