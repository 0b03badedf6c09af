"""`python -m bot worker`: a render worker (docs/architecture.md §8.8).

Renders what the bots queued in PostgreSQL, shows the progress, honours Cancel and posts the
video through the bot's own delivery code. Needs DATABASE_URL and the Telegram settings, not
the provider key. Imported only with PostgreSQL.
"""
