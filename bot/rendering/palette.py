"""Colours taken from the cover: a dominant colour and a bright accent for the visualisation."""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from pathlib import Path

from bot.rendering.probe import decode_frame
from bot.rendering.runner import Ffmpeg

SAMPLE_SIZE = 8  # the cover is averaged down to 8x8 cells; one cell is one candidate colour

RGB = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Palette:
    """Colours as (r, g, b); `hex` gives ffmpeg's 0xRRGGBB."""

    dominant: RGB
    accent: RGB

    @staticmethod
    def hex(color: RGB) -> str:
        """ffmpeg colour syntax for an (r, g, b)."""
        return "0x{:02X}{:02X}{:02X}".format(*color)


FALLBACK = Palette(dominant=(40, 40, 60), accent=(120, 200, 255))


def palette_from_pixels(rgb: bytes) -> Palette:
    """Dominant = mean colour; accent = the most vivid cell, brightened to show on a dark fill."""
    cells = [(rgb[i], rgb[i + 1], rgb[i + 2]) for i in range(0, len(rgb) - 2, 3)]
    if not cells:
        return FALLBACK
    dominant = tuple(sum(c[k] for c in cells) // len(cells) for k in range(3))
    vivid = max(cells, key=_vividness)
    return Palette(dominant=(dominant[0], dominant[1], dominant[2]), accent=_brighten(vivid))


def _vividness(color: RGB) -> float:
    _, saturation, value = colorsys.rgb_to_hsv(*(c / 255 for c in color))
    return saturation * value


def _brighten(color: RGB) -> RGB:
    hue, saturation, _ = colorsys.rgb_to_hsv(*(c / 255 for c in color))
    # A grey cover gives a near-white accent; a coloured one a vivid, light version of its hue.
    saturation = 0.0 if saturation < 0.15 else min(max(saturation, 0.55), 0.9)
    r, g, b = colorsys.hsv_to_rgb(hue, saturation, 0.95)
    return round(r * 255), round(g * 255), round(b * 255)


async def cover_palette(ffmpeg: Ffmpeg, cover: Path) -> Palette:
    """Read the cover's colours with ffmpeg (scaled down with area averaging to raw RGB)."""
    frame = await decode_frame(ffmpeg, cover, 0.0, SAMPLE_SIZE, SAMPLE_SIZE)
    return palette_from_pixels(frame.rgb)
