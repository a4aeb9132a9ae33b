"""Durable stores of the ChatKit store contract: SQLite (and PostgreSQL)."""

from .sqlite import SQLiteStore

__all__ = ["SQLiteStore"]
