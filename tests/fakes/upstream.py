"""A fake upstream API plus CDN for one dialect family, as a starlette ASGI app with state.

In process: `httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app))`; on loopback:
serve `fake.app` with uvicorn and set `public_base_url` to its address. Bodies follow
docs/providers.md §2-§5. Must not import the bot's dialect modules: it is the other side.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import functools
import hashlib
import hmac
import io
import itertools
import json
import math
import struct
import time
import wave
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, NamedTuple

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from bot.domain import Family

Endpoint = Literal[
    "create", "details", "tracks", "credits", "lyrics", "separate", "separation_details"
]
SeparationOutcome = Literal["success", "failed", "pending"]
AlreadyExistsStyle = Literal["409_with_id", "409_no_id", "422_with_id", "422_no_id"]
VideoState = Literal["pending", "succeeded", "failed"]

_V1_PATHS: dict[tuple[str, str], Endpoint] = {  # KIE and SUNOAPI (§2, §3, §5)
    ("POST", "/api/v1/mp4/generate"): "create",
    ("GET", "/api/v1/mp4/record-info"): "details",
    ("GET", "/api/v1/generate/record-info"): "tracks",
    ("POST", "/api/v1/generate/get-timestamped-lyrics"): "lyrics",  # §5.1; vidgo has none
    ("POST", "/api/v1/vocal-removal/generate"): "separate",  # §5.2; vidgo has none
    ("GET", "/api/v1/vocal-removal/record-info"): "separation_details",
}
_PATHS: dict[Family, dict[tuple[str, str], Endpoint]] = {
    Family.KIE: {**_V1_PATHS, ("GET", "/api/v1/chat/credit"): "credits"},
    Family.SUNOAPI: {**_V1_PATHS, ("GET", "/api/v1/generate/credit"): "credits"},
    Family.UNIFIED: {  # one detail path for video and music tasks (§4.2, §4.5)
        ("POST", "/api/generate/submit"): "create",
        ("GET", "/api/generate/detail/music"): "details",
        ("GET", "/api/user/balance"): "credits",
    },
}
_FLAGS: dict[VideoState, tuple[str, str]] = {  # (KIE/SUNOAPI successFlag, UNIFIED status)
    "pending": ("PENDING", "running"),
    "succeeded": ("SUCCESS", "finished"),
    "failed": ("GENERATE_MP4_FAILED", "failed"),
}
_ERROR_TYPES = {400: "validation_error", 402: "insufficient_credits_error"}  # §4.4
_MP4_HEADER = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
_CHUNK = 64 * 1024


class RecordedRequest(NamedTuple):
    """One request the fake API received (CDN hits are in `cdn_hits`)."""

    method: str
    path: str
    params: dict[str, str]
    json: Any
    headers: dict[str, str]  # lower-case names


@dataclass
class MusicTask:
    """A music generation task whose tracks can be turned into videos."""

    task_id: str
    tracks: list[tuple[str, str, float]]  # (audio id, title, duration in seconds)
    status: str


@dataclass
class VideoTask:
    """A video task created through the fake API."""

    task_id: str
    music_task_id: str
    audio_id: str
    callback_url: str | None
    created_at: datetime
    state: VideoState = "pending"
    raw_status: str | None = None  # overrides the flag derived from `state`
    video_url: str | None = None
    video_size: int = 0
    error: str | None = None
    completed_at: datetime | None = None


@dataclass
class SeparationTask:
    """A vocal separation asked for through the fake API (§5.2)."""

    task_id: str
    music_task_id: str
    audio_id: str
    callback_url: str | None
    polls: int = 0


LyricWord = tuple[str, float, float] | tuple[str, float, float, bool]  # word, start, end, success


@dataclass
class TrackLyrics:
    """What the timestamped-lyrics endpoint answers for one track (§5.1)."""

    words: Sequence[LyricWord] = ()
    hoot_cer: float = 0.1
    waveform: Sequence[float] = ()
    is_streamed: bool = False
    snake_case: bool = False  # start_s/end_s/p_align instead of startS/endS/palign
    error: tuple[int, str] | None = None  # answer this family error (code, message) instead


@dataclass
class _Injected:
    code: int
    message: str
    http_status: int
    times: int
    accept: bool
    retry_after: int | None = None


class FakeUpstream:
    """The provider API and its CDN for one family, with controls for tests."""

    def __init__(
        self,
        family: Family,
        api_key: str = "test-key",
        public_base_url: str = "http://upstream.test",
        *,
        already_exists_style: AlreadyExistsStyle = "409_with_id",
        auto_complete_after_polls: int | None = None,
    ) -> None:
        self.family = family
        self.api_key = api_key
        self.public_base_url = public_base_url.rstrip("/")
        self.already_exists_style = already_exists_style
        self.auto_complete_after_polls = auto_complete_after_polls  # N pending answers, then done
        self.credits: int | float = 100
        self.music_tasks: dict[str, MusicTask] = {}
        self.track_tags: dict[str, str] = {}  # audio id → its style tags in track listings
        self.videos: dict[str, VideoTask] = {}
        self.requests: list[RecordedRequest] = []  # every API request, CDN excluded
        self.arrivals: list[tuple[Endpoint, float]] = []  # (endpoint, time.monotonic()) each
        self.creates: list[dict[str, Any]] = []  # bodies of creates carried out, any answer
        self.cdn_hits: list[tuple[str, str]] = []  # (method, video task id)
        self.details_calls: Counter[str] = Counter()
        self.lyrics: dict[tuple[str, str], TrackLyrics] = {}  # unset: an instrumental's answer
        self.lyrics_calls: Counter[tuple[str, str]] = Counter()  # (music task, audio id)
        # Vocal separations (§5.2): one task per call; `separation_pending_polls` pending
        # answers, then `separation_outcome`. The instrumental is a tone of another pitch.
        self.separations: dict[str, SeparationTask] = {}
        self.separation_calls: Counter[tuple[str, str]] = Counter()  # (music task, audio id)
        self.separation_pending_polls = 1
        self.separation_outcome: SeparationOutcome = "success"
        self.instrumental_frequency = 660.0
        self._injected: dict[Endpoint, list[_Injected]] = {}
        # Seconds between carrying out a call and answering it (the answer is slow).
        self.answer_delay: dict[Endpoint, float] = {}
        self._by_track: dict[tuple[str, str], str] = {}  # (music task, audio id) -> video task
        self._ids = itertools.count(1)
        # The music record's media (issue 10's renderer): a generated tone of `media_seconds`
        # (whatever duration the record states) and a solid-colour cover, both on the CDN.
        self.media_seconds = 3.0
        self.media_audio: bytes | None = None  # a WAV served instead of the tone (a beat track)
        self.media_hits: list[str] = []  # names of media files served
        self.missing_media: set[str] = set()  # names answered 404 ("audio-<audio id>.wav")
        self.app = Starlette(
            routes=[
                Route("/cdn/{name}.mp4", self._cdn, methods=["GET", "HEAD"]),
                Route("/media/{name}", self._media, methods=["GET"]),
                Route("/{path:path}", self._api, methods=["GET", "POST"]),
            ]
        )

    # ---- controls -------------------------------------------------------------------------

    def add_music_task(
        self,
        task_id: str,
        tracks: Sequence[tuple[str, str, float]] = (("audio-1", "Song A", 198.4),),
        status: str | None = None,
    ) -> None:
        """A music task whose tracks may be rendered; `status` in the family's own words."""
        default = "finished" if self._unified else "SUCCESS"
        self.music_tasks[task_id] = MusicTask(task_id, list(tracks), status or default)

    def complete(self, video_task_id: str, *, video_size: int = 1_000_000) -> None:
        """Finish a video; its URL points at this app's CDN and serves `video_size` bytes."""
        video = self.videos[video_task_id]
        video.state, video.raw_status, video.error = "succeeded", None, None
        video.video_url = f"{self.public_base_url}/cdn/{video_task_id}.mp4"
        video.video_size = video_size
        video.completed_at = datetime.now(UTC)

    def fail(self, video_task_id: str, message: str = "Audio mp4 generation failed") -> None:
        """Make a video task fail with the provider text `message`."""
        video = self.videos[video_task_id]
        video.state, video.raw_status, video.error = "failed", None, message
        video.completed_at = datetime.now(UTC)

    def set_raw_status(self, video_task_id: str, flag: str) -> None:
        """Answer details with this successFlag/status verbatim (e.g. CALLBACK_EXCEPTION)."""
        self.videos[video_task_id].raw_status = flag

    def set_lyrics(self, music_task_id: str, audio_id: str, lyrics: TrackLyrics) -> None:
        """What get-timestamped-lyrics answers for this track (default: empty arrays)."""
        self.lyrics[(music_task_id, audio_id)] = lyrics

    def fail_next(
        self,
        endpoint: Endpoint,
        code: int,
        message: str = "injected failure",
        times: int = 1,
        http_status: int = 200,
        *,
        accept: bool = False,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next `times` calls of `endpoint` with the family's error body for `code`.

        With `accept` the call is still carried out (a task is created): the answer was lost.
        `retry_after` adds an HTTP Retry-After header.
        """
        injected = _Injected(code, message, http_status, times, accept, retry_after)
        self._injected.setdefault(endpoint, []).append(injected)

    def create_video(
        self, music_task_id: str, audio_id: str, callback_url: str | None = None
    ) -> str:
        """A video task made outside the API (earlier, by someone else); returns its id."""
        video_id = f"vt-{next(self._ids)}"
        now = datetime.now(UTC)
        self.videos[video_id] = VideoTask(video_id, music_task_id, audio_id, callback_url, now)
        self._by_track[(music_task_id, audio_id)] = video_id
        return video_id

    def video_task_ids(self) -> list[str]:
        """Every video task id, oldest first."""
        return list(self.videos)

    def busiest_window(self, endpoints: Collection[Endpoint], period: float) -> int:
        """The most requests to `endpoints` that arrived within any `period` seconds, as the
        provider counts them (a sliding window over arrival times)."""
        times = sorted(at for endpoint, at in self.arrivals if endpoint in endpoints)
        return max(
            (bisect.bisect_left(times, start + period) - i for i, start in enumerate(times)),
            default=0,
        )

    def callback_url(self, video_task_id: str) -> str:
        """The callBackUrl recorded when the video task was created."""
        url = self.videos[video_task_id].callback_url
        assert url, f"no callback URL was recorded for {video_task_id}"
        return url

    @property
    def user_agents(self) -> list[str]:
        """The User-Agent of every API request, in order."""
        return [r.headers.get("user-agent", "") for r in self.requests]

    # ---- callbacks ------------------------------------------------------------------------

    def callback_body(self, video_task_id: str, *, wrapped: bool = True) -> dict[str, Any]:
        """The family's callback body for the task's current state (§2.3, §3.3, §4.3)."""
        video = self.videos[video_task_id]
        if self._unified:
            data = self._video_data(video)
            return {"code": 200, "data": data} if wrapped else data
        data = {"task_id": video.task_id, "video_url": video.video_url}
        if video.state == "failed":
            code = 400 if self.family is Family.SUNOAPI else 500
            return {"code": code, "msg": video.error, "data": {**data, "video_url": None}}
        return {"code": 200, "msg": "success", "data": data}

    async def fire_callback(
        self,
        video_task_id: str,
        client: httpx.AsyncClient,
        *,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """POST the callback body (or `body`) to the callBackUrl recorded at create."""
        content = json.dumps(body if body is not None else self.callback_body(video_task_id))
        sent = {"Content-Type": "application/json", **(headers or {})}
        return await client.post(self.callback_url(video_task_id), content=content, headers=sent)

    @staticmethod
    def sign_kie(key: str, task_id: str, timestamp: str) -> str:
        """X-Webhook-Signature for X-Webhook-Timestamp `timestamp` (§2.3)."""
        digest = hmac.new(key.encode(), f"{task_id}.{timestamp}".encode(), hashlib.sha256)
        return base64.b64encode(digest.digest()).decode()

    # ---- the API --------------------------------------------------------------------------

    @property
    def _unified(self) -> bool:
        return self.family is Family.UNIFIED

    async def _api(self, request: Request) -> Response:
        arrived = time.monotonic()
        raw = await request.body()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        params = dict(request.query_params)
        headers = dict(request.headers)
        self.requests.append(
            RecordedRequest(request.method, request.url.path, params, payload, headers)
        )
        endpoint = _PATHS[self.family].get((request.method, request.url.path))
        if endpoint == "details" and self._unified and params.get("task_id") in self.music_tasks:
            endpoint = "tracks"
        if endpoint is None:
            return self._error(404, "Not Found - The requested resource or endpoint does not exist")
        self.arrivals.append((endpoint, arrived))
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return self._error(401, "You do not have access permissions")
        injected = self._take_injected(endpoint)
        if injected is None:
            answer = self._carry_out(endpoint, payload, params, headers)
            if delay := self.answer_delay.get(endpoint):
                await asyncio.sleep(delay)
            return answer
        if injected.accept:
            self._carry_out(endpoint, payload, params, headers)
        answer = self._error(injected.code, injected.message, http_status=injected.http_status)
        if injected.retry_after is not None:
            answer.headers["Retry-After"] = str(injected.retry_after)
        return answer

    def _carry_out(
        self, endpoint: Endpoint, payload: Any, params: dict[str, str], headers: dict[str, str]
    ) -> Response:
        if endpoint == "create":
            return self._create(payload, headers.get("content-type", ""))
        if endpoint == "lyrics":
            return self._lyrics(payload)
        if endpoint == "separate":
            return self._separate(payload)
        if endpoint == "separation_details":
            return self._separation_details(params.get("taskId", ""))
        if endpoint == "credits":
            balance = {"email": "fake@upstream.test", "credits_amount": self.credits}
            return self._ok(balance if self._unified else self.credits)
        task_id = params.get("task_id" if self._unified else "taskId", "")
        return self._details(task_id) if endpoint == "details" else self._tracks(task_id)

    def _take_injected(self, endpoint: Endpoint) -> _Injected | None:
        queue = self._injected.get(endpoint)
        if not queue:
            return None
        injected = queue[0]
        injected.times -= 1
        if injected.times <= 0:
            queue.pop(0)
        return injected

    def _create(self, payload: Any, content_type: str) -> Response:
        if "application/json" not in content_type or not isinstance(payload, dict):
            return self._error(400, "Format Error - The parameter is not in a valid JSON format")
        self.creates.append(payload)  # every create carried out, whatever the answer
        fields = payload.get("input") if self._unified else payload
        keys = ("task_id", "audio_id", "callback_url") if self._unified else _KIE_KEYS
        if not isinstance(fields, dict) or (self._unified and payload.get("model") != _MODEL):
            return self._invalid("model or input missing")
        task_id, audio_id = fields.get(keys[0]), fields.get(keys[1])
        callback_url = (payload if self._unified else fields).get(keys[2])
        music = self.music_tasks.get(str(task_id))
        if music is None or audio_id not in {track[0] for track in music.tracks}:
            return self._invalid(f"audioId {audio_id} is not part of taskId {task_id}")
        if existing := self._by_track.get((music.task_id, str(audio_id))):
            return self._already_exists(existing)
        video_id = self.create_video(music.task_id, str(audio_id), callback_url)
        if self._unified:
            return self._ok({"task_id": video_id, "status": "not_started", "created_time": _iso()})
        return self._ok({"taskId": video_id})

    def _already_exists(self, existing_id: str) -> Response:
        code = int(self.already_exists_style[:3])
        data = None
        if self.already_exists_style.endswith("with_id"):
            data = {"task_id" if self._unified else "taskId": existing_id}
        return self._error(code, "Mp4 record already exists", data=data)

    def _invalid(self, message: str) -> Response:
        # KIE's validation code is 422 (§2.4); the others say 400 (§3.4, §4.4).
        return self._error(422 if self.family is Family.KIE else 400, message)

    def _details(self, video_task_id: str) -> Response:
        video = self.videos.get(video_task_id)
        if video is None:
            return self._error(404, f"task {video_task_id} not found")
        polls = self.details_calls[video_task_id]
        self.details_calls[video_task_id] += 1
        limit = self.auto_complete_after_polls
        if limit is not None and polls >= limit and video.state == "pending":
            self.complete(video_task_id)
        return self._ok(self._video_data(video))

    def _video_data(self, video: VideoTask) -> dict[str, Any]:
        flag = video.raw_status or _FLAGS[video.state][self._unified]
        if self._unified:
            files = [{"video_url": video.video_url}] if video.video_url else []
            created = _iso(video.created_at)
            return {"task_id": video.task_id, "status": flag, "files": files,
                    "created_time": created, "error_message": video.error}  # fmt: skip
        audio_ids = [track[0] for track in self.music_tasks[video.music_task_id].tracks]
        return {
            "taskId": video.task_id, "musicId": video.audio_id, "callbackUrl": video.callback_url,
            "musicIndex": audio_ids.index(video.audio_id),
            "completeTime": self._time(video.completed_at),
            "response": {"videoUrl": video.video_url} if video.video_url else None,
            "successFlag": flag, "createTime": self._time(video.created_at),
            "errorCode": 500 if video.state == "failed" else None, "errorMessage": video.error,
        }  # fmt: skip

    def _tracks(self, music_task_id: str) -> Response:
        music = self.music_tasks.get(music_task_id)
        if music is None:
            return self._invalid(f"taskId {music_task_id} not found")
        failed = "FAIL" in music.status.upper() or "ERROR" in music.status.upper()
        error = "Audio generation failed" if failed else None
        offered = music.status in {"finished", "FIRST_SUCCESS", "SUCCESS", "CALLBACK_EXCEPTION"}
        if self._unified:
            files = [
                {"audio_id": a, "title": t, "duration": d, **self._track_media(a, unified=True)}
                for a, t, d in music.tracks
            ]
            return self._ok({"task_id": music_task_id, "status": music.status,
                             "files": files if offered else [], "created_time": _iso(),
                             "error_message": error})  # fmt: skip
        suno = [
            {"id": a, "title": t, "duration": d, **self._track_media(a, unified=False)}
            for a, t, d in music.tracks
        ]
        return self._ok({"taskId": music_task_id, "status": music.status,
                         "response": {"taskId": music_task_id, "sunoData": suno if offered else []},
                         "errorCode": 500 if failed else None, "errorMessage": error})  # fmt: skip

    def _tags(self, audio_id: str) -> dict[str, str]:
        return {"tags": self.track_tags[audio_id]} if audio_id in self.track_tags else {}

    def _lyrics(self, payload: Any) -> Response:
        fields = payload if isinstance(payload, dict) else {}
        task_id, audio_id = str(fields.get("taskId")), str(fields.get("audioId"))
        self.lyrics_calls[(task_id, audio_id)] += 1
        music = self.music_tasks.get(task_id)
        if music is None or audio_id not in {track[0] for track in music.tracks}:
            return self._invalid(f"audioId {audio_id} is not part of taskId {task_id}")
        lyrics = self.lyrics.get((task_id, audio_id), TrackLyrics())
        if lyrics.error is not None:
            return self._error(*lyrics.error)
        names = (
            ("start_s", "end_s", "p_align") if lyrics.snake_case else ("startS", "endS", "palign")
        )
        words = [
            {"word": word[0], "success": word[3] if len(word) > 3 else True,
             names[0]: word[1], names[1]: word[2], names[2]: 0}
            for word in lyrics.words
        ]  # fmt: skip
        return self._ok({"alignedWords": words, "waveformData": list(lyrics.waveform),
                         "hootCer": lyrics.hoot_cer, "isStreamed": lyrics.is_streamed})  # fmt: skip

    def _separate(self, payload: Any) -> Response:
        fields = payload if isinstance(payload, dict) else {}
        task_id, audio_id = str(fields.get("taskId")), str(fields.get("audioId"))
        self.separation_calls[(task_id, audio_id)] += 1
        music = self.music_tasks.get(task_id)
        if music is None or audio_id not in {track[0] for track in music.tracks}:
            return self._invalid(f"audioId {audio_id} is not part of taskId {task_id}")
        if fields.get("type") != "separate_vocal":
            return self._invalid(f"type {fields.get('type')!r} is not supported")
        separation_id = f"sep{next(self._ids):04d}"
        callback = fields.get("callBackUrl")
        self.separations[separation_id] = SeparationTask(
            separation_id, task_id, audio_id, str(callback) if callback else None
        )
        return self._ok({"taskId": separation_id})

    def _separation_details(self, separation_id: str) -> Response:
        task = self.separations.get(separation_id)
        if task is None:
            return self._invalid(f"taskId {separation_id} not found")
        task.polls += 1
        files: dict[str, Any] = {"originUrl": None, "instrumentalUrl": None, "vocalUrl": None}
        flag, error = "PENDING", None
        if task.polls > self.separation_pending_polls and self.separation_outcome != "pending":
            if self.separation_outcome == "success":
                base = f"{self.public_base_url}/media"
                files["instrumentalUrl"] = f"{base}/instrumental-{task.audio_id}.wav"
                files["vocalUrl"] = f"{base}/vocals-{task.audio_id}.wav"
                flag = "SUCCESS"
            else:
                flag, error = "GENERATE_AUDIO_FAILED", "Audio separation failed"
        return self._ok({
            "taskId": task.task_id, "musicId": task.audio_id, "callbackUrl": task.callback_url,
            "musicIndex": 0, "completeTime": None, "response": files, "successFlag": flag,
            "errorCode": None, "errorMessage": error,
        })  # fmt: skip

    # ---- bodies ---------------------------------------------------------------------------

    def _ok(self, data: Any) -> Response:
        if self._unified:
            return JSONResponse({"code": 200, "data": data})
        return JSONResponse({"code": 200, "msg": "success", "data": data})

    def _error(
        self, code: int, message: str, *, data: Any = None, http_status: int | None = None
    ) -> Response:
        """The family's error body; KIE/SUNOAPI answer HTTP 200, vidgo the code (§7.9)."""
        body: dict[str, Any] = {"code": code, "msg": message, "data": data}
        if self._unified:
            kind = _ERROR_TYPES.get(code, "server_error")
            body = {"code": code, "error": {"message": message, "type": kind}}
            body.update({"data": data} if data is not None else {})
        status = http_status if http_status is not None else (code if self._unified else 200)
        return JSONResponse(body, status_code=status)

    def _time(self, moment: datetime | None) -> str | int | None:
        """KIE: "YYYY-MM-DD HH:MM:SS" (§2.2); SUNOAPI: epoch ms (§3.2 variant B)."""
        if moment is None:
            return None
        if self.family is Family.SUNOAPI:
            return int(moment.timestamp() * 1000)
        return moment.strftime("%Y-%m-%d %H:%M:%S")

    def _track_media(self, audio_id: str, *, unified: bool) -> dict[str, str]:
        """A track's audio and cover URLs and tags (§5: sunoData[] / files[])."""
        audio = f"{self.public_base_url}/media/audio-{audio_id}.wav"
        cover = f"{self.public_base_url}/media/cover-{audio_id}.png"
        if unified:
            return {"audio_url": audio, "image_url": cover, **self._tags(audio_id)}
        return {"audioUrl": audio, "imageUrl": cover, **self._tags(audio_id)}

    # ---- the CDN --------------------------------------------------------------------------

    async def _media(self, request: Request) -> Response:
        name = request.path_params["name"]
        self.media_hits.append(name)
        if name in self.missing_media:
            return Response(status_code=404)
        if name.startswith("audio-") and name.endswith(".wav"):
            audio = self.media_audio or tone_wav(self.media_seconds)
            return Response(audio, media_type="audio/wav")
        if name.startswith("instrumental-") and name.endswith(".wav"):
            tone = tone_wav(self.media_seconds, frequency=self.instrumental_frequency)
            return Response(tone, media_type="audio/wav")
        if name.startswith("cover-") and name.endswith(".png"):
            return Response(solid_png(64, 64, (30, 90, 200)), media_type="image/png")
        return Response(status_code=404)

    async def _cdn(self, request: Request) -> Response:
        name = request.path_params["name"]
        self.cdn_hits.append((request.method, name))
        video = self.videos.get(name)
        if video is None or video.video_url is None:
            return Response(status_code=404)
        headers = {"content-length": str(video.video_size), "content-type": "video/mp4"}
        if request.method == "HEAD":
            return Response(headers=headers)
        return StreamingResponse(_fake_mp4(video.video_size), headers=headers)


_MODEL = "create-music-video"
_KIE_KEYS = ("taskId", "audioId", "callBackUrl")


@functools.cache
def tone_wav(seconds: float, rate: int = 22050, frequency: float = 440.0) -> bytes:
    """A mono 16-bit WAV of a sine tone: small audio any ffmpeg reads."""
    frames = int(seconds * rate)
    samples = (int(12000 * math.sin(2 * math.pi * frequency * i / rate)) for i in range(frames))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(struct.pack(f"<{frames}h", *samples))
    return buffer.getvalue()


@functools.cache
def solid_png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A PNG of one colour, written without any imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(row * height)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _iso(moment: datetime | None = None) -> str:
    """vidgo's ISO-8601 without a zone (§4.1)."""
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S")


async def _fake_mp4(size: int) -> AsyncIterator[bytes]:
    head = _MP4_HEADER[:size]
    yield head
    remaining = size - len(head)
    while remaining > 0:
        chunk = min(_CHUNK, remaining)
        yield bytes(chunk)
        remaining -= chunk
