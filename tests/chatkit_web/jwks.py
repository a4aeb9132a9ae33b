"""A JSON Web Key Set served on loopback, with RSA and EC keys made by `cryptography`."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

JWKS_PATH = "/.well-known/jwks.json"


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private key, its `kid` and algorithm."""

    kid: str
    algorithm: str
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

    def public_jwk(self) -> dict[str, object]:
        """The public half as a JWK."""
        public = self.private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            jwk = ECAlgorithm.to_jwk(public, as_dict=True)
        return {**jwk, "kid": self.kid, "alg": self.algorithm, "use": "sig"}

    def token(self, claims: Mapping[str, object], kid: str | None = None) -> str:
        """A token signed by this key (with `exp` in a minute unless the claims say otherwise)."""
        payload = {"exp": int(time.time()) + 60, **claims}
        return jwt.encode(payload, self.private, self.algorithm, headers={"kid": kid or self.kid})


def rsa_key(kid: str) -> SigningKey:
    """A new RS256 key."""
    return SigningKey(kid, "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


def ec_key(kid: str) -> SigningKey:
    """A new ES256 key (P-256)."""
    return SigningKey(kid, "ES256", ec.generate_private_key(ec.SECP256R1()))


class KeySet:
    """The keys the issuer publishes now; counts how often the set was fetched."""

    def __init__(self, *keys: SigningKey) -> None:
        self.keys = list(keys)
        self.fetches = 0

    async def serve(self, request: Request) -> Response:
        """`GET /.well-known/jwks.json`."""
        self.fetches += 1
        return JSONResponse({"keys": [key.public_jwk() for key in self.keys]})

    def app(self) -> Starlette:
        """A Starlette app serving the set."""
        return Starlette(routes=[Route(JWKS_PATH, self.serve)])
