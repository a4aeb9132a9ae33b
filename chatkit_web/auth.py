"""Who is asking (D6): no auth (one local user), a JWT bearer token, or the host's own function."""

from __future__ import annotations

import importlib
import inspect
import ipaddress
import logging
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import anyio.to_thread
import jwt
from anyio import CapacityLimiter
from starlette.requests import Request

from chatkit_proto.errors import ConfigError, ProtocolError

from .config import Config

logger = logging.getLogger("chatkit.auth")

UNAUTHORIZED = "Your session has expired or is not valid. Sign in again."
MIN_SECRET_BYTES = 32
JWKS_CACHE_SECONDS = 300.0
JWKS_TIMEOUT_SECONDS = 10.0
# Bounds the threads a flood of tokens with unknown key ids can keep waiting on the JWKS.
JWKS_THREADS = 4


@dataclass(frozen=True, slots=True)
class Identity:
    """The authenticated caller: its user id, what was verified about it, and its tenant."""

    user_id: str
    claims: Mapping[str, object] = field(default_factory=dict)
    tenant_id: str | None = None


class Authenticator(ABC):
    """Turns a request into an identity, or refuses it with 401 (or 403)."""

    @abstractmethod
    async def identify(self, request: Request) -> Identity:
        """The caller of a request; raises `ProtocolError("unauthorized")`."""


class SingleUser(Authenticator):
    """No authentication: every request is the same local user (the embedded default)."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id

    async def identify(self, request: Request) -> Identity:
        """Always the configured user."""
        return Identity(self.user_id)


class KeySource(Protocol):
    """Where the verification key of a token comes from, and the algorithms it allows."""

    algorithms: tuple[str, ...]

    async def key_for(self, token: str) -> str | jwt.PyJWK:
        """The key to verify `token` with; raises `jwt.PyJWTError`."""
        ...


class SharedSecret:
    """One HS256 secret shared with the token issuer."""

    algorithms: tuple[str, ...] = ("HS256",)

    def __init__(self, secret: str) -> None:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise ConfigError(f"the JWT secret must be at least {MIN_SECRET_BYTES} bytes long")
        self._secret = secret

    async def key_for(self, token: str) -> str:
        """The secret, whatever the token."""
        return self._secret


class JWKSKeys:
    """RS256/ES256 public keys from a JWKS URL: cached, refetched for an unknown `kid`.

    PyJWKClient refetches the set at most once per `refresh_seconds` for unknown key ids, so
    rotated-in keys are found and forged key ids cannot hammer the issuer. Its HTTP calls are
    blocking, so they run in worker threads; a cached key is found without leaving the loop
    (PyJWT >= 2.15 caches the parsed set). Keys are never cached one by one: a key removed
    from the set stops verifying once the set is refetched.
    """

    algorithms: tuple[str, ...] = ("RS256", "ES256")

    def __init__(self, url: str, refresh_seconds: float = 30.0) -> None:
        try:
            self._client = jwt.PyJWKClient(
                url,
                lifespan=JWKS_CACHE_SECONDS,
                timeout=JWKS_TIMEOUT_SECONDS,
                cooldown_duration=refresh_seconds,
            )
        except jwt.PyJWKClientError as exc:
            raise ConfigError(f"--jwks-url: {exc}") from None
        self._threads = CapacityLimiter(JWKS_THREADS)

    async def key_for(self, token: str) -> jwt.PyJWK:
        """The signing key named by the token's `kid`."""
        kid = jwt.get_unverified_header(token).get("kid")
        if not isinstance(kid, str):
            raise jwt.InvalidTokenError("a token verified by a JWKS needs a kid")
        cached = self._cached(kid)
        if cached is not None:
            return cached
        try:
            return await anyio.to_thread.run_sync(
                self._client.get_signing_key, kid, limiter=self._threads
            )
        except jwt.PyJWKClientConnectionError as exc:
            logger.warning("cannot fetch the JWKS: %s", exc)
            raise

    def _cached(self, kid: str) -> jwt.PyJWK | None:
        cache = self._client.jwk_set_cache
        jwk_set = cache.get() if cache is not None else None
        if jwk_set is None:
            return None
        keys = [key for key in jwk_set.keys if key.public_key_use in ("sig", None)]
        return self._client.match_kid(keys, kid)


@dataclass(frozen=True, slots=True)
class TokenRules:
    """What a verified token must also satisfy, and where its user and tenant are."""

    issuer: str | None = None
    audience: str | None = None
    leeway_seconds: float = 0.0
    user_claim: str = "sub"
    tenant_claim: str | None = None


class JWTBearer(Authenticator):
    """`Authorization: Bearer <JWT>`: signature, `exp` (required), issuer and audience checked."""

    def __init__(self, keys: KeySource, rules: TokenRules | None = None) -> None:
        self.keys = keys
        self.rules = rules or TokenRules()
        required = ["exp", self.rules.user_claim]
        if self.rules.tenant_claim:
            required.append(self.rules.tenant_claim)
        self._required = required

    async def identify(self, request: Request) -> Identity:
        """Verify the bearer token and read the user (and tenant) from its claims."""
        token = bearer_token(request)
        rules = self.rules
        try:
            claims = jwt.decode(
                token,
                await self.keys.key_for(token),
                algorithms=list(self.keys.algorithms),
                audience=rules.audience,
                issuer=rules.issuer,
                leeway=rules.leeway_seconds,
                options={"require": self._required},
            )
        except jwt.PyJWTError:
            # The reason (expired, bad signature, ...) is not for the client to probe.
            raise _unauthorized() from None
        user_id = _text_claim(claims, rules.user_claim)
        tenant_id = _text_claim(claims, rules.tenant_claim) if rules.tenant_claim else None
        return Identity(user_id, claims, tenant_id)


IdentifyFunction = Callable[[Request], Identity | str | Awaitable[Identity | str]]


class FunctionAuthenticator(Authenticator):
    """The host's `module:function`: takes the Starlette request, returns the identity.

    The function may be async; a plain function runs in a worker thread, as Starlette runs
    plain endpoints, so it may block. It returns an `Identity` or a user id, and refuses by
    raising a `ProtocolError` (`unauthorized` 401, `forbidden` 403).
    """

    def __init__(self, function: IdentifyFunction, name: str) -> None:
        self.function = function
        self.name = name
        self._is_async = _is_async_callable(function)

    async def identify(self, request: Request) -> Identity:
        """Whatever the function says about the request."""
        try:
            if self._is_async:
                result = await self.function(request)  # type: ignore[misc]
            else:
                result = await anyio.to_thread.run_sync(self.function, request)
        except ProtocolError:
            raise
        except Exception:
            logger.exception("the authenticator %s failed", self.name)
            raise ProtocolError("internal", "Something went wrong on the server.") from None
        if isinstance(result, Identity):
            return result
        if isinstance(result, str) and result:
            return Identity(result)
        logger.error("the authenticator %s returned %s", self.name, type(result).__name__)
        raise ProtocolError("internal", "Something went wrong on the server.")


def bearer_token(request: Request) -> str:
    """The token of an `Authorization: Bearer <token>` header; any other scheme is refused."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized()
    return token


def authenticator_from_config(config: Config) -> Authenticator:
    """The authenticator of `--auth`: none, jwt (secret or JWKS), or module:function."""
    if config.auth == "none":
        return SingleUser(config.user_id)
    if config.auth == "jwt":
        return JWTBearer(_key_source(config), _rules(config))
    return FunctionAuthenticator(_import_function(config.auth), config.auth)


def refuse_anonymous_exposure(config: Config) -> None:
    """Refuse (`ConfigError`) to serve a non-loopback address without auth, unless allowed."""
    if config.auth != "none" or config.allow_anonymous or is_loopback(config.host):
        return
    raise ConfigError(
        f"--host {config.host} would serve every visitor as one user: choose --auth jwt or "
        "module:function, or pass --allow-anonymous"
    )


def is_loopback(host: str) -> bool:
    """Whether an address (or `localhost`) is reachable from this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _key_source(config: Config) -> KeySource:
    secret = config.jwt_secret.get_secret_value() if config.jwt_secret else None
    if bool(secret) == bool(config.jwks_url):
        raise ConfigError("--auth jwt needs one of --jwt-secret (HS256) or --jwks-url (RS/ES256)")
    if config.jwks_url:
        return JWKSKeys(config.jwks_url, config.jwks_refresh_seconds)
    assert secret is not None
    return SharedSecret(secret)


def _rules(config: Config) -> TokenRules:
    return TokenRules(
        issuer=config.jwt_issuer,
        audience=config.jwt_audience,
        leeway_seconds=config.jwt_leeway_seconds,
        user_claim=config.jwt_user_claim,
        tenant_claim=config.jwt_tenant_claim,
    )


def _import_function(spec: str) -> IdentifyFunction:
    module_name, _, attribute = spec.partition(":")
    # `--auth myauth:identify` names a module of the directory the server was started from.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise ConfigError(f"--auth {spec}: no module named {exc.name!r}") from None
    function = getattr(module, attribute, None)
    if not callable(function):
        raise ConfigError(f"--auth {spec}: {module_name} has no function {attribute!r}")
    return function  # type: ignore[no-any-return]


def _is_async_callable(function: object) -> bool:
    # An object whose `__call__` is async counts too.
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(
        type(function).__call__
    )


def _text_claim(claims: Mapping[str, object], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise _unauthorized()
    return value


def _unauthorized() -> ProtocolError:
    return ProtocolError("unauthorized", UNAUTHORIZED)
