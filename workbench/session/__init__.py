"""Session files: recording, reading, replay, verify and fork (sqlite3 + numpy)."""
