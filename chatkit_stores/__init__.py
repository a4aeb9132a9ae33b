"""Durable stores of the ChatKit store contract (SQLite, PostgreSQL), and attachment bytes."""

from .files import AttachmentFiles, LocalFiles
from .postgres import PostgresStore
from .postgres_files import PostgresFiles
from .postgres_records import PostgresRecords
from .sqlite import SQLiteStore
from .sqlite_records import SQLiteRecords

__all__ = [
    "AttachmentFiles",
    "LocalFiles",
    "PostgresFiles",
    "PostgresRecords",
    "PostgresStore",
    "SQLiteRecords",
    "SQLiteStore",
]
