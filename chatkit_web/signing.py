"""HMAC signatures for the upload and download URLs the server hands out.

The browser fetches image previews and uploads bytes without the app's auth headers, so
those URLs carry a signature over what they grant instead.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path


class URLSigner:
    """Signs and verifies (purpose, owner, attachment id, expiry) tuples."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def sign(self, purpose: str, owner: str, attachment_id: str, expires: int = 0) -> str:
        """An HMAC over what a URL grants, so it cannot be forged or moved to another file."""
        message = f"{purpose}\n{owner}\n{attachment_id}\n{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def verify(
        self, purpose: str, owner: str, attachment_id: str, signature: str, expires: int = 0
    ) -> bool:
        """Check a signature made by `sign`, and that it has not expired."""
        if expires and expires < time.time():
            return False
        expected = self.sign(purpose, owner, attachment_id, expires)
        return hmac.compare_digest(expected, signature)


def load_secret(data_dir: Path, env: Mapping[str, str]) -> bytes:
    """The signing key: from CHATKIT_SECRET, else generated once and kept in the data dir."""
    if env.get("CHATKIT_SECRET"):
        return env["CHATKIT_SECRET"].encode()
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        _create_once(path, secrets.token_hex(32))
    return path.read_text().strip().encode()


def _create_once(path: Path, secret: str) -> None:
    """Write the key unless another process got there first: all then sign with one key."""
    partial = path.with_name(f"{path.name}.{secrets.token_hex(8)}.part")
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
        out.write(secret)
    try:
        # A hard link appears whole or not at all, and fails if the key already exists.
        with suppress(FileExistsError):
            os.link(partial, path)
    finally:
        partial.unlink()
