"""`--auth`: JWT (HS256, and RS256/ES256 from a JWKS with rotation), custom functions, exposure."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from starlette.testclient import TestClient

from chatkit_proto.errors import ConfigError
from chatkit_web import Config, create_app
from chatkit_web.auth import UNAUTHORIZED, is_loopback, refuse_anonymous_exposure
from chatkit_web.config import load_config
from tests.chatkit_web.jwks import JWKS_PATH, KeySet, SigningKey, ec_key, rsa_key
from tests.chatkit_web.serving import ROOT, ThreadedServer

SECRET = "a-shared-secret-of-at-least-32-bytes!"
LIST = json.dumps({"type": "threads.list", "params": {}})
CREATE = json.dumps(
    {
        "type": "threads.create",
        "params": {
            "input": {
                "content": [{"type": "input_text", "text": "who am I?"}],
                "attachments": [],
                "inference_options": {},
            }
        },
    }
)


def hs256(
    claims: Mapping[str, object], *, secret: str = SECRET, expires_in: int | None = 60
) -> str:
    payload = {"sub": "alice", **claims}
    if expires_in is not None:
        payload.setdefault("exp", int(time.time()) + expires_in)
    return jwt.encode(payload, secret, "HS256")


def client_for(tmp_path: Path, **settings: object) -> TestClient:
    config = Config.model_validate(
        {"app": "tests.chatkit_web.apps:claims_app", "store": "memory", "data_dir": str(tmp_path)}
        | settings
    )
    return TestClient(create_app(config, env={}))


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def status(client: TestClient, headers: dict[str, str]) -> int:
    return client.post("/chatkit", content=LIST, headers=headers).status_code


def answer_of(client: TestClient, headers: dict[str, str]) -> dict[str, object]:
    """What the claims echo app answered to a new thread."""
    response = client.post("/chatkit", content=CREATE, headers=headers)
    assert response.status_code == 200
    for line in response.text.splitlines():
        event = json.loads(line.removeprefix("data: ")) if line.startswith("data: ") else {}
        item = event.get("item", {})
        if event.get("type") == "thread.item.done" and item.get("type") == "assistant_message":
            seen: dict[str, object] = json.loads(item["content"][0]["text"])
            return seen
    raise AssertionError("no assistant message in the stream")


@pytest.fixture
def hs_client(tmp_path: Path) -> TestClient:
    return client_for(tmp_path, auth="jwt", jwt_secret=SECRET)


# -- the bearer scheme and the claims every token needs ----------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Basic {token}",
        "Token {token}",
        "JWT {token}",
        "Bearerx {token}",
        "{token}",
        "Bearer",
        "Bearer ",
        "",
    ],
)
def test_only_the_bearer_scheme_is_accepted(hs_client: TestClient, header: str) -> None:
    headers = {"authorization": header.format(token=hs256({}))} if header else {}
    response = hs_client.post("/chatkit", content=LIST, headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_bearer_scheme_is_case_insensitive(hs_client: TestClient, scheme: str) -> None:
    assert status(hs_client, {"authorization": f"{scheme} {hs256({})}"}) == 200


def test_a_token_without_exp_is_refused(hs_client: TestClient) -> None:
    assert status(hs_client, bearer(hs256({}, expires_in=None))) == 401
    assert status(hs_client, bearer(hs256({}, expires_in=60))) == 200


@pytest.mark.parametrize(
    "token",
    [
        hs256({}, expires_in=-10),
        hs256({}, secret="another-secret-of-at-least-32-bytes!!"),
        hs256({"sub": ""}),
        hs256({"sub": None}),
        "not.a.jwt",
    ],
    ids=["expired", "wrong-secret", "empty-sub", "no-sub", "garbage"],
)
def test_invalid_tokens_get_401_without_a_reason(hs_client: TestClient, token: str) -> None:
    response = hs_client.post("/chatkit", content=LIST, headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["message"] == UNAUTHORIZED
    assert SECRET not in response.text


def test_an_hs256_token_signed_with_none_is_refused(hs_client: TestClient) -> None:
    unsigned = jwt.encode({"sub": "alice", "exp": int(time.time()) + 60}, "", "none")
    assert status(hs_client, bearer(unsigned)) == 401


def test_issuer_and_audience_are_checked(tmp_path: Path) -> None:
    client = client_for(
        tmp_path,
        auth="jwt",
        jwt_secret=SECRET,
        jwt_issuer="https://id.example",
        jwt_audience="chatkit",
    )
    good = {"iss": "https://id.example", "aud": "chatkit"}
    assert status(client, bearer(hs256(good))) == 200
    assert status(client, bearer(hs256({**good, "aud": ["other", "chatkit"]}))) == 200
    for claims in (
        {**good, "iss": "https://evil.example"},
        {**good, "aud": "other"},
        {"aud": "chatkit"},
        {"iss": "https://id.example"},
    ):
        assert status(client, bearer(hs256(claims))) == 401, claims


def test_a_token_for_some_audience_is_refused_when_none_is_configured(
    hs_client: TestClient,
) -> None:
    assert status(hs_client, bearer(hs256({"aud": "another-service"}))) == 401


def test_leeway_tolerates_clock_skew_within_its_bounds(tmp_path: Path) -> None:
    client = client_for(tmp_path, auth="jwt", jwt_secret=SECRET, jwt_leeway_seconds=30)
    assert status(client, bearer(hs256({}, expires_in=-10))) == 200
    assert status(client, bearer(hs256({}, expires_in=-120))) == 401
    assert status(client, bearer(hs256({"nbf": int(time.time()) + 10}))) == 200
    assert status(client, bearer(hs256({"nbf": int(time.time()) + 120}))) == 401


def test_without_leeway_an_expired_token_is_refused(hs_client: TestClient) -> None:
    assert status(hs_client, bearer(hs256({}, expires_in=-10))) == 401


# -- claims reach the app ------------------------------------------------------------------------


def test_verified_claims_reach_the_app_through_the_context(hs_client: TestClient) -> None:
    token = hs256({"sub": "alice", "role": "admin"})
    seen = answer_of(hs_client, bearer(token))
    assert seen["user_id"] == "alice" and seen["tenant_id"] is None
    claims = seen["claims"]
    assert isinstance(claims, dict)
    assert claims["sub"] == "alice" and claims["role"] == "admin" and "exp" in claims


def test_user_and_tenant_claims_are_configurable(tmp_path: Path) -> None:
    client = client_for(
        tmp_path,
        auth="jwt",
        jwt_secret=SECRET,
        jwt_user_claim="email",
        jwt_tenant_claim="org",
    )
    seen = answer_of(client, bearer(hs256({"email": "a@example.com", "org": "acme"})))
    assert (seen["user_id"], seen["tenant_id"]) == ("a@example.com", "acme")
    assert status(client, bearer(hs256({"email": "a@example.com"}))) == 401
    assert status(client, bearer(hs256({"org": "acme"}))) == 401
    assert status(client, bearer(hs256({"email": 7, "org": "acme"}))) == 401


def test_the_local_user_has_no_claims(tmp_path: Path) -> None:
    seen = answer_of(client_for(tmp_path), {})
    assert seen == {"user_id": "local", "tenant_id": None, "claims": {}}


# -- JWKS: RS256 and ES256, rotation, refetch limits ------------------------------------------


@pytest.fixture(scope="module")
def keys() -> dict[str, SigningKey]:
    return {"rsa1": rsa_key("rsa1"), "rsa2": rsa_key("rsa2"), "ec1": ec_key("ec1")}


@pytest.fixture
def issuer(keys: dict[str, SigningKey]) -> Iterator[tuple[KeySet, str]]:
    key_set = KeySet(keys["rsa1"], keys["ec1"])
    with ThreadedServer(key_set.app()) as server:
        yield key_set, server.url + JWKS_PATH


def test_rs256_and_es256_tokens_from_a_jwks(
    tmp_path: Path, keys: dict[str, SigningKey], issuer: tuple[KeySet, str]
) -> None:
    key_set, url = issuer
    client = client_for(tmp_path, auth="jwt", jwks_url=url, jwt_issuer="https://id.example")
    claims = {"sub": "alice", "iss": "https://id.example"}
    assert status(client, bearer(keys["rsa1"].token(claims))) == 200
    assert status(client, bearer(keys["ec1"].token(claims))) == 200
    assert key_set.fetches == 1
    assert status(client, bearer(keys["rsa1"].token({**claims, "iss": "x"}))) == 401
    assert status(client, bearer(keys["rsa1"].token({**claims, "exp": None}))) == 401
    # A key the set does not publish, claiming the id of one it does.
    assert status(client, bearer(keys["rsa2"].token(claims, kid="rsa1"))) == 401


def test_key_rotation_accepts_new_keys_and_refuses_removed_ones(
    tmp_path: Path, keys: dict[str, SigningKey], issuer: tuple[KeySet, str]
) -> None:
    key_set, url = issuer
    client = client_for(tmp_path, auth="jwt", jwks_url=url, jwks_refresh_seconds=0)
    assert status(client, bearer(keys["rsa1"].token({"sub": "alice"}))) == 200
    key_set.keys = [keys["rsa2"], keys["ec1"]]
    assert status(client, bearer(keys["rsa2"].token({"sub": "alice"}))) == 200
    assert key_set.fetches == 2
    assert status(client, bearer(keys["rsa1"].token({"sub": "alice"}))) == 401
    assert status(client, bearer(keys["ec1"].token({"sub": "alice"}))) == 200


def test_unknown_key_ids_refetch_the_set_at_most_once_per_period(
    tmp_path: Path, keys: dict[str, SigningKey], issuer: tuple[KeySet, str]
) -> None:
    key_set, url = issuer
    client = client_for(tmp_path, auth="jwt", jwks_url=url, jwks_refresh_seconds=3600)
    assert status(client, bearer(keys["rsa1"].token({"sub": "alice"}))) == 200
    for n in range(5):
        assert status(client, bearer(keys["rsa1"].token({"sub": "alice"}, kid=f"forged{n}"))) == 401
    assert key_set.fetches == 1


def test_algorithm_confusion_with_the_public_key_as_hmac_secret_is_refused(
    tmp_path: Path, keys: dict[str, SigningKey], issuer: tuple[KeySet, str]
) -> None:
    _, url = issuer
    client = client_for(tmp_path, auth="jwt", jwks_url=url)
    public = (
        keys["rsa1"]
        .private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    # PyJWT refuses to make this token, so it is made by hand: HS256 keyed with the public PEM.
    header = {"alg": "HS256", "typ": "JWT", "kid": "rsa1"}
    payload = {"sub": "alice", "exp": int(time.time()) + 60}
    signing_input = b".".join(base64url(json.dumps(part).encode()) for part in (header, payload))
    signature = base64url(hmac.new(public, signing_input, hashlib.sha256).digest())
    assert status(client, bearer((signing_input + b"." + signature).decode())) == 401


def base64url(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def test_an_unreachable_jwks_refuses_tokens(tmp_path: Path, keys: dict[str, SigningKey]) -> None:
    with ThreadedServer(KeySet().app()) as server:
        url = server.url + JWKS_PATH
    client = client_for(tmp_path, auth="jwt", jwks_url=url)
    assert status(client, bearer(keys["rsa1"].token({"sub": "alice"}))) == 401


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({}, "--auth jwt needs one of --jwt-secret"),
        ({"jwt_secret": SECRET, "jwks_url": "https://id.example/jwks"}, "--auth jwt needs one"),
        ({"jwt_secret": "short"}, "the JWT secret must be at least 32 bytes"),
        ({"jwks_url": "file:///etc/passwd"}, "--jwks-url: Invalid JWKS URI scheme"),
    ],
)
def test_jwt_settings_that_cannot_work_are_config_errors(
    tmp_path: Path, settings: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        client_for(tmp_path, auth="jwt", **settings)
    assert "short" not in caught.value.message


# -- custom module:function authenticators ---------------------------------------------------

CUSTOM = "tests.chatkit_web.custom_auth"


@pytest.mark.parametrize(("function", "via"), [("identify", "sync"), ("identify_async", "async")])
def test_a_custom_authenticator_identifies_or_refuses(
    tmp_path: Path, function: str, via: str
) -> None:
    client = client_for(tmp_path, auth=f"{CUSTOM}:{function}")
    seen = answer_of(client, {"x-user": "carol", "x-tenant": "acme"})
    assert seen["user_id"] == "carol" and seen["tenant_id"] == "acme"
    assert seen["claims"] == {"via": via, "role": "member"}
    missing = client.post("/chatkit", content=LIST)
    assert (missing.status_code, missing.json()["code"]) == (401, "unauthorized")
    banned = client.post("/chatkit", content=LIST, headers={"x-user": "banned"})
    assert (banned.status_code, banned.json()["code"]) == (403, "forbidden")
    assert banned.json()["message"] == "This account may not use the assistant."


def test_a_custom_authenticator_may_return_a_user_id(tmp_path: Path) -> None:
    client = client_for(tmp_path, auth=f"{CUSTOM}:user_id_only")
    assert answer_of(client, {"x-user": "dave"})["user_id"] == "dave"


@pytest.mark.parametrize("function", ["broken", "wrong_type"])
def test_a_failing_custom_authenticator_is_a_generic_500(tmp_path: Path, function: str) -> None:
    client = client_for(tmp_path, auth=f"{CUSTOM}:{function}")
    response = client.post("/chatkit", content=LIST, headers={"x-user": "carol"})
    assert (response.status_code, response.json()["code"]) == (500, "internal")
    assert "hunter2" not in response.text


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nowhere_module:identify", "no module named 'nowhere_module'"),
        (f"{CUSTOM}:missing", "has no function 'missing'"),
        (f"{CUSTOM}:not_a_function", "has no function 'not_a_function'"),
    ],
)
def test_a_custom_authenticator_that_cannot_load_is_a_config_error(
    tmp_path: Path, spec: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        client_for(tmp_path, auth=spec)


def test_the_auth_setting_is_validated() -> None:
    with pytest.raises(
        ConfigError, match="--auth / CHATKIT_AUTH: use none, jwt or module:function"
    ):
        load_config(["--auth", "oauth"], {})
    config = load_config([], {"CHATKIT_AUTH": "jwt", "CHATKIT_JWT_SECRET": SECRET})
    assert config.auth == "jwt" and config.jwt_secret is not None
    assert SECRET not in repr(config)


# -- anonymous service beyond loopback -------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.com", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_anonymous_service_beyond_loopback_needs_allow_anonymous() -> None:
    with pytest.raises(
        ConfigError, match=r"--host 0\.0\.0\.0 would serve every visitor as one user"
    ):
        refuse_anonymous_exposure(Config(host="0.0.0.0"))
    refuse_anonymous_exposure(Config(host="0.0.0.0", allow_anonymous=True))
    refuse_anonymous_exposure(Config(host="0.0.0.0", auth="jwt"))
    refuse_anonymous_exposure(Config(host="127.0.0.1"))
    assert load_config(["--allow-anonymous"], {}).allow_anonymous is True
    assert load_config([], {"CHATKIT_ALLOW_ANONYMOUS": "true"}).allow_anonymous is True


def test_the_command_line_refuses_anonymous_service_beyond_loopback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "server.py"), "--host", "0.0.0.0", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("chatkit-server: --host 0.0.0.0 would serve every visitor")
