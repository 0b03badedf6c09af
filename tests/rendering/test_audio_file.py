"""Uploaded audio files: tags and embedded cover art, or the file name and a generated cover."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.rendering.audio_file import read_audio_file
from bot.rendering.engine import Renderer, RenderSpec
from bot.rendering.formats import VideoFormat
from bot.rendering.layout import LAYOUTS
from bot.rendering.probe import decode_frame
from tests.rendering.conftest import make_media

TITLE = "Tit: 'le' %{n} \\ [x]; y"


@pytest.fixture(scope="module")
def tagged_mp3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MP3 with title/artist tags and a blue embedded cover."""
    folder = tmp_path_factory.mktemp("upload")
    make_media(
        *("-f", "lavfi", "-i", "color=c=blue:s=300x300", "-frames:v", "1"),
        str(folder / "blue.png"),
    )
    make_media(
        *("-f", "lavfi", "-i", "sine=f=330:d=2", "-i", str(folder / "blue.png")),
        *("-map", "0", "-map", "1", "-c:a", "libmp3lame", "-c:v", "png"),
        *("-disposition:v", "attached_pic", "-metadata", f"title={TITLE}"),
        *("-metadata", "artist=Some\nBody", str(folder / "tagged.mp3")),
    )
    return folder / "tagged.mp3"


@pytest.fixture(scope="module")
def bare_ogg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A voice-message-like Opus file with no tags and no picture."""
    path = tmp_path_factory.mktemp("voice") / "file_17.oga"
    make_media("-f", "lavfi", "-i", "sine=f=200:d=2", "-c:a", "libopus", "-f", "ogg", str(path))
    return path


async def test_tags_and_embedded_cover_are_used(
    renderer: Renderer, tagged_mp3: Path, tmp_path: Path
) -> None:
    facts = await read_audio_file(
        renderer.ffmpeg, tagged_mp3, file_name="ignored.mp3", workdir=tmp_path
    )
    assert facts.title == TITLE
    assert facts.artist == "Some Body"
    assert facts.duration == pytest.approx(2.0, abs=0.1)
    assert facts.cover is not None
    video = await renderer.render(
        RenderSpec(
            audio=tagged_mp3,
            cover=facts.cover,
            title=facts.title,
            author=facts.artist,
            video_format=VideoFormat.SQUARE,
        ),
        workdir=tmp_path / "out",
    )
    frame = await decode_frame(renderer.ffmpeg, video.path, 1.0, 720, 720)
    box = LAYOUTS[VideoFormat.SQUARE].cover
    r, g, b = frame.pixel(box.x + box.width // 2, box.y + box.height // 2)
    assert b > 200
    assert max(r, g) < 60


async def test_without_tags_the_file_name_is_the_title(
    renderer: Renderer, bare_ogg: Path, tmp_path: Path
) -> None:
    facts = await read_audio_file(
        renderer.ffmpeg, bare_ogg, file_name="My_Demo v2.ogg", workdir=tmp_path
    )
    assert (facts.title, facts.artist, facts.cover) == ("My Demo v2", None, None)
    video = await renderer.render(
        RenderSpec(audio=bare_ogg, cover=facts.cover, title=facts.title),
        workdir=tmp_path / "out",
    )
    assert video.duration == pytest.approx(2.0, abs=0.1)
    assert video.cover.name == "generated-cover.png"
