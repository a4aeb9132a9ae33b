"""Durable stores of the ChatKit store contract (SQLite, PostgreSQL), and attachment bytes."""

from .files import LocalFiles
from .postgres import PostgresStore
from .sqlite import SQLiteStore

__all__ = ["LocalFiles", "PostgresStore", "SQLiteStore"]
