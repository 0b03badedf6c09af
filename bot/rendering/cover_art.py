"""Covers: a generated one (colour gradient picked from the title) for tracks that have no art,
and a large one scaled down before the render reads it."""

from __future__ import annotations

import colorsys
import hashlib
from pathlib import Path

from bot.rendering.runner import Ffmpeg

SIZE = 720
_TIMEOUT = 30.0


def gradient_colors(seed: str) -> tuple[str, str]:
    """Two ffmpeg colours whose hues come from `seed` (the same title, the same look)."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    hue = digest[0] / 255
    pair = []
    for shift, value in ((0.0, 0.55), (0.12, 0.25)):
        r, g, b = colorsys.hsv_to_rgb((hue + shift) % 1.0, 0.65, value)
        pair.append(f"0x{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}")
    return pair[0], pair[1]


async def generate_cover(ffmpeg: Ffmpeg, output: Path, seed: str) -> Path:
    """Write a SIZExSIZE PNG gradient to `output`."""
    first, second = gradient_colors(seed)
    source = (
        f"gradients=s={SIZE}x{SIZE}:c0={first}:c1={second}:nb_colors=2"
        f":x0=0:y0=0:x1={SIZE}:y1={SIZE}:d=1:speed=0"
    )
    await ffmpeg.run(
        [
            *("-y", "-loglevel", "error", "-f", "lavfi", "-i", source),
            *("-frames:v", "1", "-f", "image2", "-c:v", "png", str(output)),
        ],
        time_limit=_TIMEOUT,
    )
    return output


async def scale_cover(ffmpeg: Ffmpeg, source: Path, output: Path, side: int) -> Path:
    """Write `source` scaled down to fit `side`x`side` (aspect kept) as a PNG to `output`."""
    await ffmpeg.run(
        [
            *("-y", "-loglevel", "error", "-i", str(source), "-frames:v", "1"),
            *("-vf", f"scale={side}:{side}:force_original_aspect_ratio=decrease"),
            *("-f", "image2", "-c:v", "png", str(output)),
        ],
        time_limit=_TIMEOUT,
    )
    return output
