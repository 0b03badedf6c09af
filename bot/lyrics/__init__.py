"""Karaoke lyrics: aligned words, display lines, ASS subtitles and the chorus teaser window.

Pure domain values and functions: no I/O, must not import httpx, storage or Telegram.
"""
