"""Provider callbacks: find the job by its token, check the body and signature, record the hint.

The decision stays with the poll (design.md §2): a callback only makes the job's poll due now.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.callback_tokens import hash_token, token_matches
from bot.domain import Family, JobState, VideoResult, VideoStatus
from bot.job_model import CallbackVerdict, EngineConfig
from bot.jobs import JobService
from bot.upstream.dialect import Dialect
from bot.upstream.errors import MalformedResponse
from storage.jobs import JobRepository

log = logging.getLogger(__name__)


class CallbackIntake:
    """Turns `POST /callbacks/{token}` bodies into verdicts and poll hints."""

    def __init__(
        self,
        *,
        repo: JobRepository,
        jobs: JobService,
        dialect: Dialect,
        config: EngineConfig,
        clock: Callable[[], datetime],
        wake_reconciler: Callable[[], None],
    ) -> None:
        self._repo = repo
        self._jobs = jobs
        self._dialect = dialect
        self._config = config
        self._clock = clock
        self._wake_reconciler = wake_reconciler

    # -- callbacks --------------------------------------------------------------------------

    async def accept_callback(
        self, token: str, body: bytes, headers: Mapping[str, str]
    ) -> CallbackVerdict:
        """Check and record a provider callback; the decision stays with the poll (§2)."""
        job = await self._repo.by_callback_token_hash(hash_token(token))
        # The lookup finds the row by hash; the final check is a constant-time comparison.
        if job is None or not token_matches(token, job.callback_token_hash):
            return CallbackVerdict.UNKNOWN_TOKEN
        try:
            result = self._dialect.parse_callback(body)
        except MalformedResponse as exc:
            log.info("job %s: malformed callback: %s", job.id, exc)
            return CallbackVerdict.MALFORMED
        if not self._signature_ok(result, headers):
            log.warning("job %s: callback with a missing or bad signature", job.id)
            return CallbackVerdict.BAD_SIGNATURE
        if job.video_task_id and result.task_id and result.task_id != job.video_task_id:
            log.warning(
                "job %s: callback for task %s, expected %s; ignored",
                job.id,
                result.task_id,
                job.video_task_id,
            )
            return CallbackVerdict.ACCEPTED
        log.info("job %s: callback status=%s state=%s", job.id, result.status, job.state)
        if job.state is JobState.SUBMITTING and result.task_id:
            # The upstream accepted, then we crashed before recording the id (design §2).
            await self._jobs.accepted(job, result.task_id, JobState.SUBMITTING)
        hint = result.video_url if result.status is VideoStatus.SUCCEEDED else None
        changes: dict[str, Any] = {"next_poll_at": self._clock()}
        if hint:
            changes["callback_video_url"] = hint
        if await self._repo.transition(job.id, expected=JobState.PENDING, **changes):
            self._wake_reconciler()
        return CallbackVerdict.ACCEPTED

    def _signature_ok(self, result: VideoResult, headers: Mapping[str, str]) -> bool:
        key = self._config.hmac_key
        if key is None or self._config.family is not Family.KIE:
            return True
        timestamp = headers.get("x-webhook-timestamp")
        signature = headers.get("x-webhook-signature")
        if not timestamp or not signature or not result.task_id:
            return False
        return self._dialect.verify_signature(
            key,
            result.task_id,
            timestamp,
            signature,
            now=self._clock().timestamp(),
            max_age_seconds=self._config.signature_max_age,
        )
