"""`python -m tests.chatkit_web.replay_server PREFIX FLAGS...`: `server.py` on a fresh schema.

The replayer starts one server per transcript; each must find an empty database, so each
gets a PostgreSQL schema of its own, named PREFIX_<random>, for the test to drop afterwards.
"""

from __future__ import annotations

import secrets
import sys

from chatkit_web.cli import main

if __name__ == "__main__":
    prefix, *flags = sys.argv[1:]
    main([*flags, "--db-schema", f"{prefix}_{secrets.token_hex(4)}"])
