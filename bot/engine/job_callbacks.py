"""Provider callbacks: find the job by its token, check the body and signature, record the hint.

The decision stays with the poll (docs/architecture.md §4.7): a callback only makes the job's
poll due now.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from bot.domain import Family, JobState, VideoResult, VideoStatus
from bot.engine.callback_tokens import hash_token, token_matches
from bot.engine.job_model import CallbackVerdict, EngineConfig, ErrorKind
from bot.engine.video_hosts import VideoHosts
from bot.upstream.dialect import Dialect
from bot.upstream.errors import MalformedResponse
from storage.jobs import Job, JobRepository

log = logging.getLogger(__name__)

_RECHECKABLE = frozenset({JobState.FAILED, JobState.TIMED_OUT})
_ALREADY_EXISTS = ErrorKind.ALREADY_EXISTS.value


class CallbackIntake:
    """Turns `POST /callbacks/{token}` bodies into verdicts and poll hints."""

    def __init__(
        self,
        *,
        repo: JobRepository,
        dialect: Dialect,
        config: EngineConfig,
        clock: Callable[[], datetime],
        wake_reconciler: Callable[[], None],
        wake_delivery: Callable[[], None],
        video_hosts: VideoHosts,
    ) -> None:
        self._repo = repo
        self._dialect = dialect
        self._config = config
        self._clock = clock
        self._wake_reconciler = wake_reconciler
        self._wake_delivery = wake_delivery
        self._video_hosts = video_hosts

    # -- callbacks --------------------------------------------------------------------------

    async def accept_callback(
        self, token: str, body: bytes, headers: Mapping[str, str]
    ) -> CallbackVerdict:
        """Check and record a provider callback; the decision stays with the poll (§4.7)."""
        job = await self._repo.by_callback_token_hash(hash_token(token))
        # The lookup finds the row by hash; the final check is a constant-time comparison.
        if job is None or not token_matches(token, job.callback_token_hash):
            return CallbackVerdict.UNKNOWN_TOKEN
        try:
            result = self._dialect.parse_callback(body)
        except MalformedResponse as exc:
            log.info("job %s: malformed callback: %s", job.id, exc)
            return CallbackVerdict.MALFORMED
        signed = self._signed(result, headers)
        if signed is False:
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
        if not await self._deliver_trusted(job, result, signed=signed is True):
            await self._record_hint(job, result, signed=signed is True)
        return CallbackVerdict.ACCEPTED

    async def _deliver_trusted(self, job: Job, result: VideoResult, *, signed: bool) -> bool:
        """A success callback for the task this job follows, signed or with a video URL on a
        host the provider's details answers use, is delivered without a confirming poll."""
        url = result.video_url
        if (
            job.state is not JobState.PENDING
            or job.video_task_id is None
            or result.task_id != job.video_task_id
            or result.status is not VideoStatus.SUCCEEDED
            or url is None
            or not (signed or self._video_hosts.vouches_for(url))
        ):
            return False
        now = self._clock()
        won = await self._repo.transition(
            job.id,
            expected=JobState.PENDING,
            to=JobState.SUCCEEDED,
            video_url=url,
            completed_at=now,
            next_poll_at=None,
            next_delivery_at=now,
        )
        if won:
            log.info("job %s succeeded (trusted callback) state=succeeded", job.id)
            self._wake_delivery()
        return won

    async def _record_hint(self, job: Job, result: VideoResult, *, signed: bool) -> None:
        """Remember what the callback said and wake the reconciler; nothing more.

        A task id it names is kept as a hint until a details answer ties it to this job, and
        its video URL is kept only when the callback was signed: an unsigned body decides
        neither which task a job follows nor what is downloaded (docs/architecture.md §4.7).
        """
        changes: dict[str, Any] = {}
        if job.video_task_id is None and result.task_id:
            changes["callback_task_id"] = result.task_id
        if signed and result.status is VideoStatus.SUCCEEDED and result.video_url:
            changes["callback_video_url"] = result.video_url
        if job.state is JobState.SUBMITTING:
            # Its create may be in flight right now: that answer decides; never poll early.
            if changes:
                await self._repo.transition(job.id, expected=JobState.SUBMITTING, **changes)
            return
        wakes = job.state is JobState.PENDING or (
            job.state in _RECHECKABLE
            and result.status is VideoStatus.SUCCEEDED
            and (job.state is JobState.TIMED_OUT or job.error_kind == _ALREADY_EXISTS)
        )
        if wakes and await self._repo.transition(
            job.id, expected=job.state, next_poll_at=self._clock(), **changes
        ):
            self._wake_reconciler()

    def _signed(self, result: VideoResult, headers: Mapping[str, str]) -> bool | None:
        """True for a valid signature, False for a missing or bad one, None when callbacks
        are not signed (no HMAC key, or a provider that signs nothing)."""
        key = self._config.hmac_key
        if key is None or self._config.family is not Family.KIE:
            return None
        return self._signature_ok(key, result, headers)

    def _signature_ok(self, key: str, result: VideoResult, headers: Mapping[str, str]) -> bool:
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
