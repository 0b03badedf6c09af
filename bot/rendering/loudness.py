"""A track's loudness envelope measured from its audio: RMS per half second (issue 11).

Used to place the chorus teaser when the provider's lyrics name no chorus and carry no
waveformData. One ffmpeg child (`astats` per 4000 samples at 8 kHz), a few seconds per track.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot.rendering.runner import Ffmpeg

STEP_SECONDS = 0.5
_RATE = 8000
_LEVEL = re.compile(rb"lavfi\.astats\.Overall\.RMS_level=(\S+)")
TIME_LIMIT_SECONDS = 120.0


async def loudness_levels(ffmpeg: Ffmpeg, audio: Path) -> tuple[float, ...]:
    """Linear RMS level of each STEP_SECONDS of `audio` (silence is 0.0)."""
    samples = int(_RATE * STEP_SECONDS)
    chain = (
        f"aresample={_RATE},asetnsamples=n={samples}:p=0,astats=metadata=1:reset=1,"
        "ametadata=mode=print:key=lavfi.astats.Overall.RMS_level:file=-"
    )
    done = await ffmpeg.run(
        ["-i", str(audio), "-af", chain, "-f", "null", "-"], time_limit=TIME_LIMIT_SECONDS
    )
    return tuple(_linear(match.group(1)) for match in _LEVEL.finditer(done.stdout))


def _linear(decibels: bytes) -> float:
    try:
        value = float(decibels)
    except ValueError:
        return 0.0
    return 10 ** (value / 20) if value > -200 else 0.0  # -inf: digital silence
