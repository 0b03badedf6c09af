"""Distribution: auto-post to a channel and inline sharing."""
