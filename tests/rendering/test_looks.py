"""The `bars` look draws spectrum bars where the waveform was (issue 18 item 3, docs/architecture.md
§9.3): the same 3 s render with each visualisation, one decoded frame compared. Outside the
visualisation box the two frames are the same picture; inside it, the bars frame has the bars'
regular transparent gaps along its bottom rows (where every bar is lit on a noisy tone), the
waveform none."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from bot.rendering import Renderer, RenderSpec, VideoFormat, Visualisation
from bot.rendering.filtergraph import BAR_GAP, BAR_PITCH
from bot.rendering.layout import LAYOUTS, SAFE_FRAME
from bot.rendering.probe import decode_frame
from bot.rendering.runner import Ffmpeg
from tests.rendering.conftest import FFMPEG

pytestmark = pytest.mark.usefixtures("no_stray_ffmpeg")

VIS = LAYOUTS[VideoFormat.VERTICAL].visualisation
AT = 1.5
Pixels = npt.NDArray[np.int16]


async def frame(renderer: Renderer, media: Path, folder: Path, vis: Visualisation) -> Pixels:
    spec = RenderSpec(
        audio=media / "tone.wav", cover=media / "red.png", title="Looks", visualisation=vis
    )
    video = (await renderer.render(spec, workdir=folder)).path
    width, height = VideoFormat.VERTICAL.size
    decoded = await decode_frame(Ffmpeg(FFMPEG), video, AT, width, height)
    return np.frombuffer(decoded.rgb, np.uint8).reshape(height, width, 3).astype(np.int16)


def gap_contrast(picture: Pixels) -> float:
    """How much brighter the middles of the bars are than the gaps between them, along the
    bottom rows of the visualisation box (0 for anything without bars there)."""
    rows = picture[VIS.bottom - 5 : VIS.bottom - 1, VIS.x : VIS.right].sum(axis=2).mean(axis=0)
    phase = np.arange(VIS.width) % BAR_PITCH
    gaps = rows[phase < BAR_GAP - 1]
    middles = rows[(phase > BAR_GAP + 3) & (phase < BAR_PITCH - 3)]
    return float(middles.mean() - gaps.mean())


async def test_bars_replace_the_waveform_in_its_box_only(
    renderer: Renderer, media: Path, tmp_path: Path
) -> None:
    assert SAFE_FRAME.contains(VIS)
    waves = await frame(renderer, media, tmp_path / "waves", Visualisation.WAVES)
    bars = await frame(renderer, media, tmp_path / "bars", Visualisation.BARS)

    inside = np.zeros(waves.shape[:2], dtype=bool)
    inside[VIS.y : VIS.bottom, VIS.x : VIS.right] = True
    difference = np.abs(bars - waves).sum(axis=2)
    assert difference[~inside].mean() < 2  # the same picture elsewhere (x264 noise)
    assert difference[inside].mean() > 40  # another picture in the box

    assert gap_contrast(bars) > 100  # lit bars, dark gaps (sum of r, g, b: ~160 measured)
    assert abs(gap_contrast(waves)) < 30  # ~0 measured
