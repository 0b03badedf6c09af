"""The RenderPlan's stored form (docs/architecture.md §8.2): what preparation writes, rendering
reads back equal; anything else is refused as BadPlan, never half-read."""

from __future__ import annotations

import json

import pytest

from bot.engine.render_plan import BadPlan, RenderPlan, plan_from_json
from bot.lyrics.model import AlignedLyrics, AlignedWord, SecondLine

LYRICS = AlignedLyrics(
    (
        AlignedWord("Sing", 0.2, 0.6, tags=("Chorus",), break_before=True),
        AlignedWord("loud", 0.6, 1.0, success=False, palign=0.4),
    ),
    hoot_cer=0.12,
    waveform=(0.1, 0.9, 0.4),
)
RECORD = RenderPlan(
    video_format="9:16",
    title="Song A — «ёлка»",
    author="DJ Test",
    domain="example.org",
    audio_url="https://cdn.test/audio.mp3",
    cover_url="https://cdn.test/cover.png",
    duration=198.4,
    burn_lyrics=True,
    teaser=True,
    lyrics=LYRICS,
    second_lines=(SecondLine(0.2, 1.0, "Пой громко — 大声で 🎤"),),
    count_in=True,
)
UPLOAD = RenderPlan(
    video_format="16:9",
    title=None,
    author=None,
    domain=None,
    source_file_id="AgADBAAD",
    source_file_name="my song.mp3",
)


@pytest.mark.parametrize("plan", [RECORD, UPLOAD])
def test_a_plan_reads_back_equal(plan: RenderPlan) -> None:
    assert plan_from_json(plan.to_json()) == plan


def test_the_stored_plan_is_one_versioned_json_object() -> None:
    body = json.loads(RECORD.to_json())
    assert body["v"] == 1
    assert body["lyrics"]["words"][0][0] == "Sing"
    assert body["second_lines"] == [[0.2, 1.0, "Пой громко — 大声で 🎤"]]


def test_a_plan_stored_before_second_lines_and_count_ins_reads_without_them() -> None:
    body = json.loads(RECORD.to_json())
    del body["second_lines"], body["count_in"]
    plan = plan_from_json(json.dumps(body))
    assert plan.second_lines == ()
    assert plan.count_in is False


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        "{}",
        json.dumps({**json.loads(UPLOAD.to_json()), "v": 2}),  # a newer plan
        json.dumps({**json.loads(UPLOAD.to_json()), "surprise": 1}),
        json.dumps({**json.loads(UPLOAD.to_json()), "source_file_id": None}),  # no source
        json.dumps({**json.loads(RECORD.to_json()), "source_file_id": "both"}),  # two
        json.dumps({**json.loads(UPLOAD.to_json()), "video_format": 916}),
        json.dumps({**json.loads(RECORD.to_json()), "lyrics": {"words": 3}}),
        json.dumps({**json.loads(RECORD.to_json()), "second_lines": [[0.2, "x"]]}),
        json.dumps({**json.loads(RECORD.to_json()), "count_in": "yes"}),
    ],
)
def test_anything_else_is_a_bad_plan(body: str) -> None:
    with pytest.raises(BadPlan):
        plan_from_json(body)
