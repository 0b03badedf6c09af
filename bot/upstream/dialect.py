"""What a dialect module offers (the Protocol) and which module serves a provider.

Pure: no I/O, must not import httpx.
"""

from __future__ import annotations

from typing import Protocol

from bot.domain import (
    PROVIDER_FAMILY,
    Credits,
    Family,
    Provider,
    SeparationResult,
    TrackList,
    VideoRequest,
    VideoResult,
)
from bot.lyrics.model import AlignedLyrics
from bot.upstream import kie, sunoapi, unified
from bot.upstream.http import HttpRequest, HttpResponse


class Dialect(Protocol):
    """Build requests for and parse answers of one dialect family; every member is pure."""

    def build_create(self, request: VideoRequest) -> HttpRequest: ...

    def parse_create(self, response: HttpResponse) -> str: ...

    def build_details(self, video_task_id: str) -> HttpRequest: ...

    def parse_details(self, response: HttpResponse) -> VideoResult: ...

    def parse_callback(self, body: bytes) -> VideoResult: ...

    def build_tracks(self, music_task_id: str) -> HttpRequest: ...

    def parse_tracks(self, response: HttpResponse) -> TrackList: ...

    def build_timestamped_lyrics(self, task_id: str, audio_id: str) -> HttpRequest: ...

    def parse_timestamped_lyrics(self, response: HttpResponse) -> AlignedLyrics: ...

    def build_separation(self, task_id: str, audio_id: str, callback_url: str) -> HttpRequest: ...

    def parse_separation(self, response: HttpResponse) -> str: ...

    def build_separation_details(self, separation_task_id: str) -> HttpRequest: ...

    def parse_separation_details(self, response: HttpResponse) -> SeparationResult: ...

    def build_credits(self) -> HttpRequest: ...

    def parse_credits(self, response: HttpResponse) -> Credits: ...

    def verify_signature(
        self,
        key: str,
        task_id: str,
        timestamp: str,
        signature: str,
        *,
        now: float,
        max_age_seconds: float = 300,
    ) -> bool: ...


def dialect_for_family(family: Family) -> Dialect:
    """The dialect module of a family."""
    dialects: dict[Family, Dialect] = {
        Family.KIE: kie,
        Family.SUNOAPI: sunoapi,
        Family.UNIFIED: unified,
    }
    return dialects[family]


def dialect_for(provider: Provider) -> Dialect:
    """The dialect module a provider speaks (docs/providers.md §1)."""
    return dialect_for_family(PROVIDER_FAMILY[provider])
