"""SQLite storage: connection, migrations, repositories. Knows nothing of Telegram or HTTP."""
