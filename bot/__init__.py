"""musicvideo-bot: turns Suno tracks into MP4 music videos posted to Telegram chats."""
