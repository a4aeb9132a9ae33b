"""Fixtures of this folder's tests: a PostgreSQL schema of their own."""

from tests.pg import pg_dsn, pg_schema

__all__ = ["pg_dsn", "pg_schema"]
