"""Parsing of ffmpeg's `-progress` key=value stream into a fraction 0..1; no I/O."""

from __future__ import annotations


class ProgressParser:
    """Feeds on `-progress pipe:1` lines; `fraction` is the encoded share of `duration`."""

    def __init__(self, duration: float) -> None:
        self._duration_us = max(duration, 1e-3) * 1_000_000
        self.fraction = 0.0
        self.finished = False

    def feed(self, line: str) -> bool:
        """Take one line; True when it completed a progress block (time to report)."""
        key, sep, value = line.strip().partition("=")
        if not sep:
            return False
        if key in {"out_time_us", "out_time_ms"}:  # both are microseconds (an old ffmpeg quirk)
            try:
                micros = int(value)
            except ValueError:  # "N/A" before the first frame
                return False
            self.fraction = min(max(micros / self._duration_us, self.fraction), 1.0)
            return False
        if key == "progress":
            if value == "end":
                self.finished = True
                self.fraction = 1.0
            return True
        return False
