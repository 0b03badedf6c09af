"""SQLite's schema as an ordered list of migrations, applied under `PRAGMA user_version`.

Must not import Telegram, httpx or anything from `bot`. Append new migrations; never edit one
that has shipped. Migration N (1-based) leaves the database at user_version N.
"""

from __future__ import annotations

import logging
from typing import Final

from storage.errors import DatabaseTooNew
from storage.interface import Database

log = logging.getLogger(__name__)

_V1_JOBS: Final = """
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id INTEGER NOT NULL,
    thread_id INTEGER NULL,
    user_id INTEGER NULL,
    command_message_id INTEGER NULL,
    status_message_id INTEGER NULL,
    language TEXT NOT NULL DEFAULT 'en',
    provider TEXT NOT NULL,
    task_id TEXT NOT NULL,
    audio_id TEXT NOT NULL,
    author TEXT NULL,
    domain_name TEXT NULL,
    video_task_id TEXT NULL,
    state TEXT NOT NULL,
    video_url TEXT NULL,
    callback_video_url TEXT NULL,
    file_id TEXT NULL,
    error_kind TEXT NULL,
    error TEXT NULL,
    callback_token_hash TEXT NOT NULL UNIQUE,
    submit_attempts INTEGER NOT NULL DEFAULT 0,
    poll_attempts INTEGER NOT NULL DEFAULT 0,
    delivery_attempts INTEGER NOT NULL DEFAULT 0,
    next_poll_at REAL NULL,
    next_delivery_at REAL NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    completed_at REAL NULL,
    delivered_at REAL NULL
)
"""

MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    (
        _V1_JOBS,
        "CREATE INDEX jobs_due_poll ON jobs (next_poll_at) WHERE next_poll_at IS NOT NULL",
        "CREATE INDEX jobs_due_delivery ON jobs (next_delivery_at)"
        " WHERE next_delivery_at IS NOT NULL",
        "CREATE INDEX jobs_chat_latest ON jobs (chat_id, id DESC)",
        "CREATE INDEX jobs_video_task ON jobs (video_task_id)",
        "CREATE INDEX jobs_track ON jobs (provider, task_id, audio_id)",
        "CREATE INDEX jobs_user_created ON jobs (user_id, created_at)",
    ),
    (
        # Per-chat defaults for /author and /domain.
        "CREATE TABLE chat_settings ("
        " chat_id INTEGER PRIMARY KEY, author TEXT NULL, domain_name TEXT NULL,"
        " updated_at REAL NOT NULL)",
        # Tracks offered by the /video <taskId> picker; a button carries only the row id.
        "CREATE TABLE track_picks ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT, chat_id INTEGER NOT NULL,"
        " task_id TEXT NOT NULL, audio_id TEXT NOT NULL, title TEXT NOT NULL,"
        " duration_seconds REAL NULL, author TEXT NULL, created_at REAL NOT NULL)",
        "CREATE INDEX track_picks_created ON track_picks (created_at)",
        # Telegram update ids already taken in (webhook redeliveries are processed once).
        "CREATE TABLE processed_updates (update_id INTEGER PRIMARY KEY, received_at REAL NOT NULL)",
        "CREATE INDEX processed_updates_received ON processed_updates (received_at)",
        # The track title, when the picker knew it, for captions and lists.
        "ALTER TABLE jobs ADD COLUMN title TEXT NULL",
    ),
    (
        # The update inbox: every Telegram update is stored here before it is confirmed to
        # Telegram (polling offset, webhook 200) and marked handled once its handler returned,
        # so a kill at any moment neither loses nor repeats a command (docs/architecture.md §2.1).
        "CREATE TABLE update_inbox ("
        " update_id INTEGER PRIMARY KEY, body TEXT NOT NULL,"
        " received_at REAL NOT NULL, handled_at REAL NULL)",
        "CREATE INDEX update_inbox_pending ON update_inbox (update_id) WHERE handled_at IS NULL",
        "CREATE INDEX update_inbox_handled ON update_inbox (handled_at)"
        " WHERE handled_at IS NOT NULL",
        "DROP TABLE processed_updates",
        # The getUpdates offset, written in the same transaction as the updates it confirms.
        "CREATE TABLE intake_state ("
        " id INTEGER PRIMARY KEY CHECK (id = 1), next_offset INTEGER NOT NULL)",
        # The update that created a job: handling the same update again finds the job.
        "ALTER TABLE jobs ADD COLUMN intake_update_id INTEGER NULL",
        "CREATE UNIQUE INDEX jobs_intake_update ON jobs (intake_update_id)"
        " WHERE intake_update_id IS NOT NULL",
        # A task id named by an unsigned callback: a hint to verify, never adopted on its own.
        "ALTER TABLE jobs ADD COLUMN callback_task_id TEXT NULL",
        # Submissions and checks are due separately, so a backlog of one never starves the other.
        "DROP INDEX jobs_due_poll",
        "CREATE INDEX jobs_due_submit ON jobs (next_poll_at)"
        " WHERE next_poll_at IS NOT NULL AND state = 'submitting'",
        "CREATE INDEX jobs_due_check ON jobs (next_poll_at)"
        " WHERE next_poll_at IS NOT NULL AND state <> 'submitting'",
        # The hourly quota of senders without a user id (channel posts, anonymous admins,
        # "send as channel"), counted per chat.
        "CREATE INDEX jobs_anonymous_created ON jobs (chat_id, created_at) WHERE user_id IS NULL",
        # The phase the job's status message shows, so an edit that would change nothing
        # is never sent (two Telegram calls per video on the happy path).
        "ALTER TABLE jobs ADD COLUMN status_phase TEXT NULL",
        # Facts about this database itself, e.g. the random salt of its callback tokens.
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ),
    (
        # Auto-post: a chat linked to a channel (channel_id NULL = off; the caption template
        # is kept across links). linked_at: only videos delivered after it are posted.
        "CREATE TABLE autopost_links ("
        " chat_id INTEGER PRIMARY KEY, channel_id INTEGER NULL, channel_title TEXT NULL,"
        " caption_template TEXT NULL, language TEXT NOT NULL DEFAULT 'en',"
        " linked_at REAL NULL, linked_by INTEGER NULL, updated_at REAL NOT NULL)",
        # One row per video and channel: posted exactly once, with its own due time and lease.
        "CREATE TABLE channel_posts ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT, job_id INTEGER NOT NULL,"
        " chat_id INTEGER NOT NULL, channel_id INTEGER NOT NULL, linked_at REAL NOT NULL,"
        " file_id TEXT NOT NULL, state TEXT NOT NULL, caption TEXT NULL,"
        " message_id INTEGER NULL, attempts INTEGER NOT NULL DEFAULT 0,"
        " next_attempt_at REAL NULL, sent_at REAL NULL, error TEXT NULL,"
        " created_at REAL NOT NULL, updated_at REAL NOT NULL, posted_at REAL NULL,"
        " UNIQUE (job_id, channel_id))",
        "CREATE INDEX channel_posts_due ON channel_posts (next_attempt_at)"
        " WHERE next_attempt_at IS NOT NULL",
        # The per-channel pace looks at the sends of the last minute.
        "CREATE INDEX channel_posts_sent ON channel_posts (channel_id, sent_at)"
        " WHERE sent_at IS NOT NULL",
        # Delivered videos with a file_id: per chat (auto-post) and per user (inline sharing).
        "CREATE INDEX jobs_chat_delivered ON jobs (chat_id, delivered_at)"
        " WHERE state = 'delivered' AND file_id IS NOT NULL",
        "CREATE INDEX jobs_user_delivered ON jobs (user_id, id DESC)"
        " WHERE state = 'delivered' AND file_id IS NOT NULL",
        # Our own renderer (issue 10): a render is a job like the provider ones. `kind` tells
        # them apart; `video_format` is the render's shape (NULL: the provider's video).
        "ALTER TABLE jobs ADD COLUMN kind TEXT NOT NULL DEFAULT 'provider'",
        "ALTER TABLE jobs ADD COLUMN video_format TEXT NULL",
        # The rendered file waiting for delivery, and its facts (JSON: width, height, ...).
        "ALTER TABLE jobs ADD COLUMN output_path TEXT NULL",
        "ALTER TABLE jobs ADD COLUMN render_facts TEXT NULL",
        # An uploaded audio file to render: its Telegram file_id and file name.
        "ALTER TABLE jobs ADD COLUMN source_file_id TEXT NULL",
        "ALTER TABLE jobs ADD COLUMN source_file_name TEXT NULL",
        # The failed provider job a fallback render stands in for (one render per failure).
        "ALTER TABLE jobs ADD COLUMN fallback_of INTEGER NULL",
        "CREATE UNIQUE INDEX jobs_fallback_of ON jobs (fallback_of) WHERE fallback_of IS NOT NULL",
        # Renders have their own due queue (the renderer loop), apart from the submitter's.
        "DROP INDEX jobs_due_submit",
        "CREATE INDEX jobs_due_submit ON jobs (next_poll_at)"
        " WHERE next_poll_at IS NOT NULL AND state = 'submitting' AND kind = 'provider'",
        "CREATE INDEX jobs_due_render ON jobs (next_poll_at)"
        " WHERE next_poll_at IS NOT NULL AND state = 'submitting' AND kind = 'render'",
        # The /render <taskId> picker remembers the format asked for (NULL: /video).
        "ALTER TABLE track_picks ADD COLUMN video_format TEXT NULL",
    ),
    (
        # Karaoke lyrics (issue 11): a track's aligned lyrics, fetched once and kept (the
        # provider's price is not documented). body: JSON of the parsed lyrics; NULL = none
        # (the provider has no lyrics endpoint).
        "CREATE TABLE track_lyrics ("
        " provider TEXT NOT NULL, task_id TEXT NOT NULL, audio_id TEXT NOT NULL,"
        " body TEXT NULL, fetched_at REAL NOT NULL, PRIMARY KEY (provider, task_id, audio_id))",
        # A render burns in the lyrics unless asked not to (`nolyrics`, `/lyrics off`); a
        # teaser is a render of the chorus.
        "ALTER TABLE jobs ADD COLUMN lyrics INTEGER NOT NULL DEFAULT 1",
        "ALTER TABLE jobs ADD COLUMN teaser INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE chat_settings ADD COLUMN lyrics INTEGER NOT NULL DEFAULT 1",
        # A /render <taskId> nolyrics pick renders without lyrics (1 = with, the default).
        "ALTER TABLE track_picks ADD COLUMN lyrics INTEGER NOT NULL DEFAULT 1",
    ),
    (
        # Fair intake (docs/architecture.md §2.2): each update's lane (its chat, else its user;
        # NULL: none) and whether it is its lane's head, the one update of the lane that may be
        # handled now. Listing the heads skips every update waiting behind one.
        "ALTER TABLE update_inbox ADD COLUMN lane INTEGER NULL",
        "ALTER TABLE update_inbox ADD COLUMN lane_head INTEGER NOT NULL DEFAULT 1",
        # Updates pending across the upgrade: the lane as bot/telegram_io/update_intake.py
        # `update_lane` computes it (the first object in the update; its chat, its message's
        # chat, its sender, its user: the first of these ids that is an integer).
        "UPDATE update_inbox SET lane = (SELECT COALESCE("
        "  CASE WHEN json_type(p.value, '$.chat.id') = 'integer'"
        "   THEN json_extract(p.value, '$.chat.id') END,"
        "  CASE WHEN json_type(p.value, '$.message.chat.id') = 'integer'"
        "   THEN json_extract(p.value, '$.message.chat.id') END,"
        "  CASE WHEN json_type(p.value, '$.from.id') = 'integer'"
        "   THEN json_extract(p.value, '$.from.id') END,"
        "  CASE WHEN json_type(p.value, '$.user.id') = 'integer'"
        "   THEN json_extract(p.value, '$.user.id') END)"
        " FROM json_each(update_inbox.body) AS p"
        " WHERE p.key <> 'update_id' AND p.type = 'object' LIMIT 1)"
        " WHERE handled_at IS NULL AND json_valid(body)",
        "UPDATE update_inbox SET lane_head = (lane IS NULL OR update_id ="
        " (SELECT MIN(o.update_id) FROM update_inbox AS o"
        "  WHERE o.lane = update_inbox.lane AND o.handled_at IS NULL))"
        " WHERE handled_at IS NULL",
        "CREATE INDEX update_inbox_lane ON update_inbox (lane, update_id) WHERE handled_at IS NULL",
        "CREATE INDEX update_inbox_heads ON update_inbox (update_id)"
        " WHERE handled_at IS NULL AND lane_head = 1",
    ),
    (
        # Costs that do not grow with history (docs/architecture.md §11, §10.1). /healthz
        # counts planned polls over this partial index instead of scanning every job.
        "CREATE INDEX jobs_poll_planned ON jobs (id, next_poll_at) WHERE next_poll_at IS NOT NULL",
        # The channel poster derives rows from the videos delivered since its last look.
        "CREATE INDEX jobs_delivered_at ON jobs (delivered_at)"
        " WHERE state = 'delivered' AND file_id IS NOT NULL",
    ),
    (
        # A render's hand-over from its preparation to its rendering (docs/architecture.md
        # §8.2): the RenderPlan as JSON; NULL until the render is prepared.
        "ALTER TABLE jobs ADD COLUMN render_plan TEXT NULL",
    ),
    # Nothing: the twin of PostgreSQL's `leader_terms` (docs/architecture.md §5.4), a table
    # only an election needs, and SQLite runs one process (storage/postgres_migrations.py).
    (),
    (
        # A track's music analysis (docs/architecture.md §9.1), once per track beside its
        # lyrics: body is TrackAnalysis JSON made by method `version`; an uploaded file is
        # keyed by provider 'upload', task_id '' and its Telegram file_unique_id.
        "CREATE TABLE track_analysis ("
        " provider TEXT NOT NULL, task_id TEXT NOT NULL, audio_id TEXT NOT NULL,"
        " version INTEGER NOT NULL, body TEXT NOT NULL, analysed_at REAL NOT NULL,"
        " PRIMARY KEY (provider, task_id, audio_id))",
    ),
    (
        # Render dispatch (docs/architecture.md §8.8): a render attempt's fencing number. The
        # task engine's schema that PostgreSQL's twin also applies has no SQLite counterpart
        # (with SQLite renders run in-process, without the engine).
        "ALTER TABLE jobs ADD COLUMN render_fence INTEGER NOT NULL DEFAULT 0",
    ),
    (
        # Lyric styles (docs/architecture.md §9.2): a chat's `/lyrics sweep|pop` and the style a
        # render was made with, part of its "rendered once" key. NULL is the word sweep.
        "ALTER TABLE chat_settings ADD COLUMN lyric_style TEXT NULL",
        "ALTER TABLE jobs ADD COLUMN lyric_style TEXT NULL",
    ),
    (
        # Looks (docs/architecture.md §9.3): a chat's `/style pulse|bars|calm` and the look a
        # render was made with, part of its "rendered once" key. NULL is pulse.
        "ALTER TABLE chat_settings ADD COLUMN look TEXT NULL",
        "ALTER TABLE jobs ADD COLUMN look TEXT NULL",
    ),
    (
        # Karaoke (docs/architecture.md §9.7): one vocal separation per track, asked once and
        # shared by every karaoke render of it (state: requested | succeeded | failed); who
        # asked and when, since a separation counts against that sender's hourly quota. A
        # karaoke render is its own look in the "rendered once" key.
        "CREATE TABLE track_separations ("
        " provider TEXT NOT NULL, task_id TEXT NOT NULL, audio_id TEXT NOT NULL,"
        " state TEXT NOT NULL, separation_task_id TEXT NULL, instrumental_url TEXT NULL,"
        " error_kind TEXT NULL, error TEXT NULL, requested_at REAL NOT NULL,"
        " completed_at REAL NULL,"
        " user_id INTEGER NULL, chat_id INTEGER NOT NULL,"
        " PRIMARY KEY (provider, task_id, audio_id))",
        "CREATE INDEX track_separations_by_user ON track_separations (user_id, requested_at)",
        "CREATE INDEX track_separations_by_chat ON track_separations (chat_id, requested_at)",
        "ALTER TABLE jobs ADD COLUMN karaoke INTEGER NOT NULL DEFAULT 0",
    ),
    (
        # Lyric corrections (docs/architecture.md §9.5): a chat's corrected words of a track
        # (body: the corrected lyrics and second lines as JSON, revision: its short hash), the
        # revision a render was admitted with (part of its "rendered once" key; NULL: the
        # provider's words), and the edits waiting for a user's reply (kept across restarts).
        "CREATE TABLE lyric_corrections ("
        " chat_id INTEGER NOT NULL, provider TEXT NOT NULL, task_id TEXT NOT NULL,"
        " audio_id TEXT NOT NULL, body TEXT NOT NULL, revision TEXT NOT NULL,"
        " updated_at REAL NOT NULL, PRIMARY KEY (chat_id, provider, task_id, audio_id))",
        "ALTER TABLE jobs ADD COLUMN lyrics_revision TEXT NULL",
        "CREATE TABLE lyric_edit_sessions ("
        " chat_id INTEGER NOT NULL, user_id INTEGER NOT NULL, provider TEXT NOT NULL,"
        " task_id TEXT NOT NULL, audio_id TEXT NOT NULL, message_ids TEXT NOT NULL,"
        " first_text TEXT NULL, first_at REAL NULL, done_update_id INTEGER NULL,"
        " done_reply TEXT NULL, expires_at REAL NOT NULL, PRIMARY KEY (chat_id, user_id))",
    ),
    (
        # Canvas loops and live photos (docs/architecture.md §10.3): a render's variant
        # ('loop': the silent Canvas loop, 'live': the loop with the hook's audio sent as a
        # live photo; NULL: a video), part of its "rendered once" key; a live photo's still
        # photo's file_id beside its video's (`file_id`); a chat's `/autopost live on|off`.
        "ALTER TABLE jobs ADD COLUMN variant TEXT NULL",
        "ALTER TABLE jobs ADD COLUMN still_file_id TEXT NULL",
        "ALTER TABLE autopost_links ADD COLUMN live INTEGER NOT NULL DEFAULT 0",
    ),
    (
        # Render it here (docs/architecture.md §10.4): the inline message a guest query's
        # placeholder became, per render job, until the video (or a one-line error) is in it.
        "CREATE TABLE guest_answers ("
        " job_id INTEGER PRIMARY KEY, inline_message_id TEXT NOT NULL,"
        " created_at REAL NOT NULL, next_edit_at REAL NULL,"
        " edit_attempts INTEGER NOT NULL DEFAULT 0, finished_at REAL NULL,"
        " dressed_at REAL NULL)",
        "CREATE INDEX guest_answers_open ON guest_answers (job_id) WHERE finished_at IS NULL",
    ),
)

SCHEMA_VERSION: Final = len(MIGRATIONS)


async def schema_version(db: Database) -> int:
    """The database's `PRAGMA user_version`."""
    row = await db.fetch_one("PRAGMA user_version")
    return int(row[0]) if row is not None else 0


async def migrate(db: Database) -> int:
    """Apply pending migrations, each in its own transaction; return the final version."""
    found = await schema_version(db)
    if found > SCHEMA_VERSION:
        raise DatabaseTooNew(found, SCHEMA_VERSION)
    for version in range(found + 1, SCHEMA_VERSION + 1):
        async with db.transaction():
            # Re-read under the write lock: another process may have migrated meanwhile.
            current = await schema_version(db)
            if current >= version:
                continue
            for statement in MIGRATIONS[version - 1]:
                await db.execute(statement)
            # PRAGMA takes no placeholders; `version` is an int we computed.
            await db.execute(f"PRAGMA user_version = {int(version)}")
        log.info("database migrated to schema version %d", version)
    return SCHEMA_VERSION
