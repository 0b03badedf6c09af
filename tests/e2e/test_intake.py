"""Update intake: busy chats never slow the others; malformed updates never stop the bot."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.domain import JobState, Provider
from tests.e2e.harness import AUDIO_ID, TASK_ID, Harness, running_bot
from tests.unit.test_properties import JSON_VALUES, near_misses

USER = 4242
GROUP = -100_555
SECRET = "s3cret-token"
SECRET_HEADER = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


def collect(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """`count` examples drawn by hypothesis (run as a property, so no example() warnings)."""
    found: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def draw(value: Any) -> None:
        found.append(value)

    draw()
    return found


async def run_one_job(h: Harness, user_id: int, audio_id: str = AUDIO_ID) -> None:
    """A normal job from command to video, through the webhook."""
    update = h.telegram.private_message(f"/video {TASK_ID} {audio_id}", user_id=user_id)
    assert (await h.web.post("/telegram", json=update, headers=SECRET_HEADER)).status_code == 200
    job = await h.wait_state(JobState.PENDING, job_id=1)
    assert job.video_task_id is not None
    h.upstream.complete(job.video_task_id)
    await h.upstream.fire_callback(job.video_task_id, h.web)
    await h.wait_state(JobState.DELIVERED)


async def test_a_busy_group_never_delays_a_private_chat(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.flood_control = True
        for _ in range(50):
            h.telegram.push_update(h.telegram.group_message("/help", chat_id=GROUP))
        await h.telegram.wait_for("sendMessage", lambda c: c.params["chat_id"] == GROUP)
        pushed = time.monotonic()
        h.telegram.push_update(h.telegram.private_message("/help", user_id=USER))
        [answer] = await h.telegram.wait_for(
            "sendMessage", lambda c: c.params["chat_id"] == USER, timeout=1.0
        )
        assert answer.at - pushed < 1.0
        await asyncio.sleep(0.5)
        group_replies = h.telegram.calls_to("sendMessage")
        assert 1 <= len([c for c in group_replies if c.params["chat_id"] == GROUP]) <= 21
        assert h.telegram.flood_answers == 0  # the group's limit was respected, not hit


async def test_a_thousand_waiting_updates_in_one_group_never_delay_a_private_chat(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.flood_control = True  # the group's replies wait on its 20 a minute
        for _ in range(1000):
            h.telegram.push_update(h.telegram.group_message("/help", chat_id=GROUP))
        # Every group update is stored (getUpdates confirmed them all) and waits in the inbox.
        await h.wait_until(lambda: not h.telegram.pending_updates, timeout=30)
        await h.telegram.wait_for("sendMessage", lambda c: c.params["chat_id"] == GROUP)
        pushed = time.monotonic()
        h.telegram.push_update(h.telegram.private_message("/help", user_id=USER))
        [answer] = await h.telegram.wait_for(
            "sendMessage", lambda c: c.params["chat_id"] == USER, timeout=5.0
        )
        took = answer.at - pushed
        print(f"private /help behind 1,000 pending group updates answered in {took:.3f} s")  # noqa: T201 - the measured figure
        assert took < 1.0
        group_replies = [
            c for c in h.telegram.calls_to("sendMessage") if c.params["chat_id"] == GROUP
        ]
        assert 1 <= len(group_replies) <= 21
        assert h.telegram.flood_answers == 0


@pytest.mark.parametrize(
    "broken",
    [
        {
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 1, "type": "private"},
                "from": {"id": [1, 2], "is_bot": False, "first_name": "x"},
                "text": "/help",
            }
        },
        {"message": "not an object"},
        {"message": {"message_id": 1, "date": 0, "chat": {"id": "x", "type": "private"}}},
        {"callback_query": {"id": "1"}},
        {
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": [[1]], "type": "private"},
                "from": {"id": 7, "is_bot": False, "first_name": "x"},
                "text": "/video a b",
            }
        },
    ],
    ids=["user-id-list", "message-string", "chat-id-text", "callback-query-fields", "chat-id-list"],
)
async def test_a_malformed_webhook_update_is_acknowledged_and_the_bot_goes_on(
    tmp_path: Path, broken: dict[str, Any]
) -> None:
    async with running_bot(tmp_path, Provider.KIE, bot_mode="webhook", webhook_secret=SECRET) as h:
        for update_id in (1, 2**70):  # an id beyond 64 bits too
            body = {"update_id": update_id, **broken}
            answer = await h.web.post("/telegram", json=body, headers=SECRET_HEADER)
            assert answer.status_code == 200
        await run_one_job(h, USER)
        await h.settle()  # every update was handled or retired: none is retried forever
        health = await h.web.get("/healthz")
        assert health.status_code == 200
        assert health.json()["updates_pending"] == 0


async def test_a_malformed_update_in_get_updates_never_blocks_later_ones(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        h.telegram.push_update(
            {"update_id": 5, "message": {"chat": {"id": [1]}, "from": {"id": {}}, "text": 7}}
        )
        h.telegram.push_update({"no_update_id": True})
        h.telegram.push_update(h.telegram.private_message("/help", user_id=USER))
        await h.telegram.wait_for("sendMessage", lambda c: c.params["chat_id"] == USER)
        assert (await h.web.get("/healthz")).status_code == 200


UPDATE_SAMPLE = {
    "update_id": 1,
    "message": {
        "message_id": 10,
        "date": 1_700_000_000,
        "chat": {"id": USER, "type": "private", "first_name": "Ann"},
        "from": {"id": USER, "is_bot": False, "first_name": "Ann", "language_code": "en"},
        "text": "/video music-task-1 audio-2",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
    },
}


def _update_near_misses() -> st.SearchStrategy[Any]:
    paths = [
        ["message"],
        ["message", "chat"],
        ["message", "from"],
        ["message", "text"],
        ["message", "entities"],
        ["update_id"],
        ["message", "chat", "id"],
        ["message", "from", "id"],
        ["message", "date"],
    ]

    def mutate(path: list[str], value: Any) -> Any:
        document = json.loads(json.dumps(UPDATE_SAMPLE))
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = value
        return document

    return st.builds(mutate, st.sampled_from(paths), JSON_VALUES)


async def test_fuzzed_webhook_and_callback_bodies_never_get_a_5xx(tmp_path: Path) -> None:
    updates = collect(st.one_of(JSON_VALUES, _update_near_misses()), 120)
    callbacks = collect(
        st.one_of(
            JSON_VALUES, near_misses("kie/callback_success.json", "kie/callback_failed_500.json")
        ),
        80,
    )
    async with running_bot(tmp_path, Provider.KIE, bot_mode="webhook", webhook_secret=SECRET) as h:
        await run_one_job(h, USER)  # gives a real callback token to aim at
        [create] = [r for r in h.upstream.requests if r.method == "POST"]
        own_callback = str(create.json["callBackUrl"])
        for n, body in enumerate(updates):
            if isinstance(body, dict) and body.get("update_id") == 1:
                body["update_id"] = 50_000 + n
            answer = await h.web.post("/telegram", content=json.dumps(body), headers=SECRET_HEADER)
            assert answer.status_code < 500, (body, answer.text)
        for body in callbacks:
            for url in (own_callback, "/callbacks/unknown-token"):
                answer = await h.web.post(url, content=json.dumps(body))
                assert answer.status_code < 500, (body, answer.text)
        await h.settle()
        # The bot still works: another normal job goes through, and it reports healthy.
        update = h.telegram.private_message(f"/video {TASK_ID} audio-2", user_id=USER + 1)
        await h.web.post("/telegram", json=update, headers=SECRET_HEADER)
        async with asyncio.timeout(5):
            while not [j for j in await h.repo.latest_for_chat(USER + 1) if j.video_task_id]:
                await asyncio.sleep(0.02)
        assert (await h.web.get("/healthz")).status_code == 200


async def test_updates_of_one_chat_are_answered_in_the_order_they_came(tmp_path: Path) -> None:
    async with running_bot(tmp_path, Provider.KIE) as h:
        updates = [h.telegram.group_message("/help", chat_id=GROUP) for _ in range(12)]
        for update in updates:
            h.telegram.push_update(update)
        answers = await h.telegram.wait_for(
            "sendMessage", lambda c: c.params["chat_id"] == GROUP, count=12, timeout=10
        )
        answered = [c.params["reply_parameters"]["message_id"] for c in answers]
        assert answered == [u["message"]["message_id"] for u in updates]
