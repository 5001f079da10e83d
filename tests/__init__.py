"""The test suite: it mirrors the packages and runs on SQLite and PostgreSQL."""
