"""Defaults shared by the shells without importing them (importing the store is slow)."""

DEFAULT_DATABASE_URL = "sqlite:///var/allguide.db"
