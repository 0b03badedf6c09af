"""The callback endpoint against hostile or broken callers, end to end (docs/architecture.md §13.4).

Bodies that are not callbacks get 400, more than 64 KiB gets 413 (chunked bodies counted as they
stream, a lying Content-Length refused unread), a slow body does not hold up other requests,
a body that stops half-way gets 408 after a deadline, and with a kie HMAC key only fresh,
correctly signed callbacks are let in.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from bot.domain import JobState, Provider
from bot.engine.job_model import CallbackVerdict
from bot.web import MAX_CALLBACK_BYTES, build_web_app
from tests.e2e.harness import BOT_TOKEN, Harness, new_fakes, running_bot
from tests.e2e.processes import serve
from tests.fakes.telegram import FakeTelegram
from tests.fakes.upstream import FakeUpstream

USER = 4242
HMAC_KEY = "hmac-secret"

NOT_CALLBACKS = [
    b"",
    b"not json",
    b"\xff\xfe\x00garbage",
    b"{",
    b"[]",
    b'"a string"',
    b"null",
    b"42",
    b'{"code": 200, "data": []}',
    b'{"code": 200, "data": "task"}',
    b'{"code": 200, "data": {"task_id": ["t"]}}',
    b'{"code": 200, "data": {"task_id": 7}}',
    b'{"data": {"task_id": {"nested": true}}, "status": 1}',
]
# The code decides for kie and sunoapi; vidgo's status is a string (docs/providers.md §4.3).
NOT_CALLBACKS_OF = {
    Provider.KIE: [b'{"code": "two hundred", "data": {"task_id": "t"}}'],
    Provider.SUNOAPI: [b'{"code": null, "data": {"task_id": "t"}}'],
    Provider.VIDGO: [b'{"task_id": "t", "status": 5}', b'{"data": {"task_id": "t", "status": []}}'],
}


async def callback_url(h: Harness) -> str:
    """Submit a job and return the callback URL the upstream was given for it."""
    await h.submit(user_id=USER)
    return h.upstream.callback_url(await h.video_task_id())


async def body_of(size: int, chunk: int = 8 * 1024) -> AsyncIterator[bytes]:
    """`size` bytes in chunks: httpx sends it chunked, without a Content-Length."""
    for start in range(0, size, chunk):
        yield b" " * min(chunk, size - start)


def padded(body: dict[str, object], size: int) -> bytes:
    """`body` as JSON, padded with trailing whitespace to exactly `size` bytes."""
    encoded = json.dumps(body).encode()
    return encoded + b" " * (size - len(encoded))


@pytest.mark.parametrize("provider", [Provider.KIE, Provider.SUNOAPI, Provider.VIDGO])
async def test_bodies_that_are_not_callbacks_get_400(tmp_path: Path, provider: Provider) -> None:
    async with running_bot(tmp_path, provider) as h:
        url = await callback_url(h)
        for body in NOT_CALLBACKS + NOT_CALLBACKS_OF[provider]:
            response = await h.web.post(url, content=body)
            assert response.status_code == 400, body
        job = await h.job()
        assert job.state is JobState.PENDING
        assert job.callback_video_url is None
        assert h.telegram.calls_to("sendVideo") == []


async def test_up_to_64_kib_is_read_and_more_is_refused(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        url = await callback_url(h)
        video_task = await h.video_task_id()
        callback = h.upstream.callback_body(video_task)

        exactly = await h.web.post(url, content=padded(callback, MAX_CALLBACK_BYTES))
        assert exactly.status_code == 200
        over = await h.web.post(url, content=padded(callback, MAX_CALLBACK_BYTES + 1))
        assert over.status_code == 413
        chunked_ok = await h.web.post(url, content=body_of(MAX_CALLBACK_BYTES))
        assert chunked_ok.status_code == 400  # all read (it is only whitespace), not too large


async def test_chunked_body_is_cut_off_once_it_streams_past_64_kib(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        url = await callback_url(h)
        sent: list[int] = []

        async def endless() -> AsyncIterator[bytes]:
            while len(sent) < 1024:  # 8 MiB if nobody stopped reading
                sent.append(8 * 1024)
                yield b" " * (8 * 1024)

        response = await h.web.post(url, content=endless())
        assert response.status_code == 413
        assert "content-length" not in response.request.headers
        assert response.request.headers["transfer-encoding"] == "chunked"
        assert MAX_CALLBACK_BYTES < sum(sent) <= MAX_CALLBACK_BYTES + 8 * 1024


async def test_lying_content_length_is_refused_without_reading(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        url = await callback_url(h)
        pulled: list[bytes] = []

        async def small() -> AsyncIterator[bytes]:
            pulled.append(b"{}")
            yield b"{}"

        headers = {"Content-Length": str(10**12)}
        response = await h.web.post(url, content=small(), headers=headers)
        assert response.status_code == 413
        assert pulled == []


async def test_slow_body_does_not_block_other_requests(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        assert h.app.web is not None
        async with serve(h.app.web) as base:
            await _dribble_a_callback(h, base)


async def _dribble_a_callback(h: Harness, base: str) -> None:
    """Send a callback a byte at a time over a raw socket, checking /healthz meanwhile."""
    url = await callback_url(h)
    video_task = await h.video_task_id()
    h.upstream.complete(video_task)
    body = json.dumps(h.upstream.callback_body(video_task)).encode()
    address = urlsplit(base)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    head = (
        f"POST {urlsplit(url).path} HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    try:
        writer.write(head.encode() + body[:10])
        await writer.drain()
        async with httpx.AsyncClient(base_url=base) as client:
            for byte in range(10, 20):  # one byte every 0.1 s, a health check in between
                started = time.monotonic()
                health = await client.get("/healthz")
                assert health.status_code == 200
                assert time.monotonic() - started < 0.5
                writer.write(body[byte : byte + 1])
                await writer.drain()
                await asyncio.sleep(0.1)
        writer.write(body[20:])
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 5)
        assert status_line.startswith(b"HTTP/1.1 200"), status_line
    finally:
        writer.close()
        await writer.wait_closed()


async def test_half_sent_body_gets_408_after_the_read_deadline() -> None:
    received: list[bytes] = []

    async def on_callback(_token: str, body: bytes, _headers: object) -> CallbackVerdict:
        received.append(body)
        return CallbackVerdict.ACCEPTED

    async def health() -> dict[str, object]:
        return {}

    web = build_web_app(on_callback=on_callback, health=health, body_read_seconds=0.3)
    async with serve(web) as base:
        address = urlsplit(base)
        reader, writer = await asyncio.open_connection(address.hostname, address.port)
        head = (
            f"POST /callbacks/x HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Length: 100\r\n\r\n"
        )
        try:
            writer.write(head.encode() + b"{" * 50)
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), 5)
        finally:
            writer.close()
            await writer.wait_closed()
    assert status_line.startswith(b"HTTP/1.1 408"), status_line
    assert received == []


async def test_signed_callbacks_only_with_a_fresh_valid_signature(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE, music_api_webhook_hmac_key=HMAC_KEY) as h:
        await h.submit(user_id=USER)
        video_task = await h.video_task_id()
        # A success claim naming another video: if let in, its URL would become the hint.
        forged_data = {"task_id": video_task, "video_url": "http://evil.test/x.mp4"}
        forged = {"code": 200, "msg": "success", "data": forged_data}
        now = int(time.time())

        def signed(key: str, timestamp: int) -> dict[str, str]:
            stamp = str(timestamp)
            signature = FakeUpstream.sign_kie(key, video_task, stamp)
            return {"X-Webhook-Timestamp": stamp, "X-Webhook-Signature": signature}

        refused = [
            {},
            {"X-Webhook-Timestamp": str(now)},
            {"X-Webhook-Signature": signed(HMAC_KEY, now)["X-Webhook-Signature"]},
            signed("wrong-key", now),
            {**signed(HMAC_KEY, now), "X-Webhook-Signature": "bm90IGEgc2lnbmF0dXJl"},
            signed(HMAC_KEY, now - 600),  # stale: ten minutes old
            signed(HMAC_KEY, now + 600),  # from the future
        ]
        for headers in refused:
            response = await h.upstream.fire_callback(
                video_task, h.web, headers=headers, body=forged
            )
            assert response.status_code == 401, headers
        assert (await h.job()).callback_video_url is None

        h.upstream.complete(video_task)
        fresh = signed(HMAC_KEY, int(time.time()))
        response = await h.upstream.fire_callback(video_task, h.web, headers=fresh)
        assert response.status_code == 200

        [video] = await h.telegram.wait_for("sendVideo")
        assert video.params["video"] == f"http://upstream.test/cdn/{video_task}.mp4"
        await h.wait_state(JobState.DELIVERED)
        again = await h.upstream.fire_callback(video_task, h.web, headers=fresh)
        assert again.status_code == 200  # a duplicate is accepted and changes nothing
        await h.settle()
        assert len(h.telegram.calls_to("sendVideo")) == 1


async def test_reset_database_never_reuses_a_callback_token(tmp_path: Path) -> None:
    async with running_bot(tmp_path / "first", Provider.KIE) as h:
        first_url = await callback_url(h)
    later = (FakeTelegram(token=BOT_TOKEN, first_update_id=20_000), new_fakes(Provider.KIE)[1])
    # Same database: same salt.
    async with running_bot(tmp_path / "first", Provider.KIE, fakes=later) as h:
        await h.submit("/video music-task-1 audio-2", user_id=USER)
        await h.video_task_id(job_id=2)
        assert (await h.web.post(first_url, json={})).status_code == 400  # still job 1's
    async with running_bot(tmp_path / "reset", Provider.KIE) as h:
        second_url = await callback_url(h)  # job 1 again, in a fresh database
        assert second_url != first_url
        assert (await h.web.post(first_url, json={})).status_code == 404
