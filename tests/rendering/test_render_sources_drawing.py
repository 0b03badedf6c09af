"""A render plan's second lines and count-in reach the ASS file its render burns in
(bot/engine/render_sources.py, docs/architecture.md §9.5, §9.6), whole and in a teaser, where
the second lines move with the teaser's window as the words do."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.domain import Look
from bot.engine.render_plan import RenderPlan
from bot.engine.render_sources import RenderSources
from bot.engine.track_analyses import TrackAnalyses
from bot.lyrics.model import AlignedLyrics, AlignedWord, SecondLine
from bot.rendering.engine import Renderer
from bot.upstream.safe_fetch import SafeFetcher
from storage.db import SqliteDatabase
from storage.jobs import KIND_RENDER, Job, JobRepository
from storage.lyrics import AnalysisRepository
from tests.rendering.conftest import make_media
from tests.storage.factories import new_job

pytestmark = pytest.mark.usefixtures("no_stray_ffmpeg")

_EVENT = re.compile(r"^Dialogue: 0,([\d:.]+),([\d:.]+),(\w+),,0,0,0,,(.*)$", re.MULTILINE)
LYRICS = AlignedLyrics(
    (
        AlignedWord("Hello", 5.0, 5.4, break_before=True),
        AlignedWord("world", 5.5, 5.9),
        AlignedWord("sing", 12.0, 12.4, tags=("Chorus",), break_before=True),
        AlignedWord("along", 12.5, 12.9),
    )
)
SECONDS = (SecondLine(5.0, 5.9, "Привет, мир"), SecondLine(12.0, 12.9, "歌おう"))


class _Folder:
    """Chat files from a folder on disk (the ChatFiles port)."""

    def __init__(self, source: Path) -> None:
        self._source = source

    async def save(self, file_id: str, path: Path) -> None:
        shutil.copyfile(self._source / file_id, path)


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[RenderSources, Job]]:
    make_media("-f", "lavfi", "-i", "sine=f=330:d=40:sample_rate=8000", str(tmp_path / "t.wav"))
    async with (
        SqliteDatabase.connect(tmp_path / "bot.sqlite3") as db,
        httpx.AsyncClient() as client,
    ):
        job = await JobRepository(db).create(new_job(kind=KIND_RENDER, video_format="9:16"))
        sources = RenderSources(
            fetcher=SafeFetcher(client, trusted_origin=None),
            chat_files=_Folder(tmp_path),
            analyses=TrackAnalyses(AnalysisRepository(db)),
        )
        yield sources, job


def _plan(**changes: object) -> RenderPlan:
    return RenderPlan(
        "9:16",
        "T",
        None,
        None,
        source_file_id="t.wav",
        source_file_name="t.wav",
        burn_lyrics=True,
        lyrics=LYRICS,
        look=Look.CALM.value,
        **changes,  # type: ignore[arg-type]
    )


def _stamp(text: str) -> float:
    hours, minutes, seconds = text.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


async def _events(
    setup: tuple[RenderSources, Job], renderer: Renderer, folder: Path, plan: RenderPlan
) -> list[tuple[float, float, str, str]]:
    sources, job = setup
    folder.mkdir()
    spec = await sources.spec(job, plan, folder, renderer)
    assert spec.subtitles is not None
    document = spec.subtitles.read_text(encoding="utf-8")
    return [(_stamp(a), _stamp(b), style, text) for a, b, style, text in _EVENT.findall(document)]


async def test_the_plans_second_lines_and_count_in_are_drawn(
    setup: tuple[RenderSources, Job], renderer: Renderer, tmp_path: Path
) -> None:
    plain = await _events(setup, renderer, tmp_path / "plain", _plan())
    assert {style for _, _, style, _ in plain} == {"Current", "Next"}
    events = await _events(
        setup, renderer, tmp_path / "both", _plan(second_lines=SECONDS, count_in=True)
    )
    seconds = [(start, text) for start, _, style, text in events if style == "Second"]
    assert len(seconds) == len(SECONDS)
    assert all(text.endswith(s.text) for (_, text), s in zip(seconds, SECONDS, strict=True))
    ones = [end for _, end, style, text in events if style == "Count" and text.endswith("1")]
    assert ones == [5.0, 12.0]


async def test_a_teasers_second_lines_move_with_its_window(
    setup: tuple[RenderSources, Job], renderer: Renderer, tmp_path: Path
) -> None:
    plan = _plan(second_lines=SECONDS, count_in=True, teaser=True)
    events = await _events(setup, renderer, tmp_path / "teaser", plan)
    current = [(start, end) for start, end, style, text in events if style == "Current"]
    seconds = [(start, end, text) for start, end, style, text in events if style == "Second"]
    # The teaser starts at the chorus: "sing along" is its first line, under it its second.
    assert seconds[0][2].endswith("歌おう")
    assert (seconds[0][0], seconds[0][1]) == current[0]
    assert all(not text.endswith("Привет, мир") for _, _, text in seconds)
