"""Typed errors of the renderer; the job engine maps them to user-facing sentences."""

from __future__ import annotations


class RenderError(Exception):
    """Base of every error the renderer raises on purpose."""


class TrackTooLong(RenderError):
    """Even the smallest bitrate cannot fit the track into the size budget."""

    def __init__(self, duration: float, max_bytes: int, max_duration: float) -> None:
        super().__init__(
            f"a {duration:.0f} s track cannot fit into {max_bytes / 1e6:.0f} MB "
            f"(at most {max_duration:.0f} s fits)"
        )
        self.duration = duration
        self.max_bytes = max_bytes
        self.max_duration = max_duration


class BadInput(RenderError):
    """The audio (or cover) is not something ffmpeg can read, or has no audio stream."""


class FfmpegFailed(RenderError):
    """ffmpeg exited non-zero; `stderr_tail` holds its last lines for the log."""

    def __init__(self, returncode: int, stderr_tail: str) -> None:
        super().__init__(f"ffmpeg exited with {returncode}: {stderr_tail[-500:]}")
        self.returncode = returncode
        self.stderr_tail = stderr_tail


class RenderTimedOut(RenderError):
    """ffmpeg ran past its time limit and was killed with its process group."""

    def __init__(self, limit: float, stderr_tail: str) -> None:
        super().__init__(f"ffmpeg ran longer than {limit:.0f} s and was stopped")
        self.limit = limit
        self.stderr_tail = stderr_tail


class OutputTooLarge(RenderError):
    """The finished file is over the size budget (should not happen; checked after encoding)."""

    def __init__(self, size: int, max_bytes: int) -> None:
        super().__init__(f"rendered file is {size} bytes, over the {max_bytes} byte budget")
        self.size = size
        self.max_bytes = max_bytes
