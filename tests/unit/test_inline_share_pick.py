"""Inline sharing's pure part: each file offered once, newest first, at most the limit."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.distribution.inline_share import each_file_once, search_words
from storage.jobs import DeliveredVideo

MADE = datetime(2025, 1, 2, tzinfo=UTC)


def video(job_id: int, file_id: str) -> DeliveredVideo:
    return DeliveredVideo(job_id, file_id, "en", f"Song {job_id}", None, f"audio-{job_id}", MADE)


def test_each_file_is_offered_once_newest_first_within_the_limit() -> None:
    videos = [video(5, "a"), video(4, "b"), video(3, "a"), video(2, "c"), video(1, "d")]
    assert [v.id for v in each_file_once(videos)] == [5, 4, 2, 1]
    assert [v.id for v in each_file_once(videos, limit=2)] == [5, 4]


def test_search_words_are_casefolded() -> None:
    assert search_words("  Straße NIGHT ") == ["strasse", "night"]
    assert search_words("") == []
