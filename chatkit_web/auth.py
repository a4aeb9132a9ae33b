"""Who is asking: no auth (one local user), or a signed JWT bearer token (D6)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass

import jwt

from chatkit_proto.errors import ConfigError, ProtocolError

UNAUTHORIZED = "Your session has expired or is not valid. Sign in again."


@dataclass(frozen=True, slots=True)
class Identity:
    """The authenticated caller."""

    user_id: str
    claims: Mapping[str, object]


class Authenticator(ABC):
    """Turns request headers into an identity, or refuses with 401."""

    @abstractmethod
    def identify(self, headers: Mapping[str, str]) -> Identity:
        """The caller of a request; raises `ProtocolError("unauthorized")`."""


class SingleUser(Authenticator):
    """No authentication: every request is the same local user (the embedded default)."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id

    def identify(self, headers: Mapping[str, str]) -> Identity:
        """Always the configured user."""
        return Identity(self.user_id, {})


class JWTBearer(Authenticator):
    """`Authorization: Bearer <JWT>` signed with a shared secret (HS256); `sub` is the user."""

    def __init__(self, secret: str, audience: str | None = None, issuer: str | None = None) -> None:
        self._secret = secret
        self._audience = audience
        self._issuer = issuer

    def identify(self, headers: Mapping[str, str]) -> Identity:
        """Verify the token's signature, expiry, audience and issuer."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise ProtocolError("unauthorized", UNAUTHORIZED)
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["sub", "exp"]},
            )
        except jwt.PyJWTError:
            # The reason (expired, bad signature, ...) is not for the client to probe.
            raise ProtocolError("unauthorized", UNAUTHORIZED) from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise ProtocolError("unauthorized", UNAUTHORIZED)
        return Identity(subject, claims)


def authenticator_from_env(env: Mapping[str, str], default_user: str) -> Authenticator:
    """`CHATKIT_AUTH=jwt` with `CHATKIT_JWT_SECRET` (and optional audience/issuer), else none."""
    mode = env.get("CHATKIT_AUTH", "none").lower()
    if mode == "none":
        return SingleUser(default_user)
    if mode == "jwt":
        secret = env.get("CHATKIT_JWT_SECRET")
        if not secret:
            raise ConfigError("CHATKIT_AUTH=jwt needs CHATKIT_JWT_SECRET")
        return JWTBearer(secret, env.get("CHATKIT_JWT_AUDIENCE"), env.get("CHATKIT_JWT_ISSUER"))
    raise ConfigError(f"CHATKIT_AUTH must be none or jwt, not {mode!r}")
