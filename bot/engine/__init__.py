"""The job engine: jobs, their loops, admission, callbacks and render jobs (no Telegram I/O,
no texts: docs/architecture.md §1.1)."""
