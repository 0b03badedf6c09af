"""The hosts this provider's own details answers have served video URLs from.

A callback's video URL on one of them (or a signed callback's) is delivered at once instead of
waiting for a confirming details call: Telegram fetches the URL itself, and our own downloads
still go through the safe-download rules (bot/upstream/safe_fetch.py). Kept in memory: after a
restart
the first confirmed video teaches the host again.
"""

from __future__ import annotations

from urllib.parse import urlsplit


class VideoHosts:
    """Learns hosts from confirmed video URLs; vouches for URLs on them."""

    def __init__(self) -> None:
        self._hosts: set[str] = set()

    def learn(self, url: str) -> None:
        """Remember the host of a URL a details answer returned."""
        host = _https_host(url)
        if host is not None:
            self._hosts.add(host)

    def vouches_for(self, url: str) -> bool:
        """Whether `url` is an http(s) URL on a host a details answer has used."""
        host = _https_host(url)
        return host is not None and host in self._hosts


def _https_host(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.hostname.lower()}:{parts.port or ''}"
