from __future__ import annotations

import asyncio
import string
import threading
from datetime import UTC, datetime, timedelta, tzinfo
from types import SimpleNamespace

import bcrypt
import jwt
import pytest

from app.core import security
from app.core.config import Settings
from app.core.security import (
    TokenError,
    create_token,
    decode_token,
    dummy_hash,
    generate_password,
    hash_password,
    run_password_work,
    verify_password,
)
from app.errors import PasswordCheckBusy

SECRET = "unit-test-secret-key-long-enough-for-hs256-0123456789"
SID = "5" * 32


@pytest.fixture
def token_settings() -> Settings:
    return Settings(_env_file=None, environment="test", secret_key=SECRET)  # type: ignore[call-arg]


# Passwords


def test_hash_then_verify() -> None:
    password_hash = hash_password("correct-horse-battery", rounds=4)
    assert password_hash.startswith("$2b$04$")
    assert verify_password("correct-horse-battery", password_hash)
    assert not verify_password("correct-horse-batterY", password_hash)
    assert not verify_password("", password_hash)


def test_hashes_are_salted() -> None:
    assert hash_password("same-password-1", 4) != hash_password("same-password-1", 4)


def test_rounds_setting_is_the_cost_factor() -> None:
    assert hash_password("pw-with-cost-5", rounds=5).startswith("$2b$05$")


def test_multibyte_passwords_round_trip() -> None:
    password = "pässwörd-ünïcødé-€"
    assert verify_password(password, hash_password(password, 4))


@pytest.mark.parametrize("password", ["a" * 73, "é" * 37, "€" * 25])
def test_verify_is_false_for_more_than_72_bytes(password: str) -> None:
    prefix_hash = bcrypt.hashpw(password.encode()[:72], bcrypt.gensalt(4)).decode()
    # bcrypt only looks at 72 bytes; a longer password must not match its truncation.
    assert verify_password(password, prefix_hash) is False


def test_exactly_72_bytes_still_verifies() -> None:
    password = "é" * 36
    assert len(password.encode()) == 72
    assert verify_password(password, hash_password(password, 4))


def test_dummy_hash_is_cached_per_cost_and_matches_nothing_guessable() -> None:
    assert dummy_hash(4) == dummy_hash(4)
    assert dummy_hash(4).startswith("$2b$04$")
    assert dummy_hash(5).startswith("$2b$05$")
    assert not verify_password("", dummy_hash(4))
    assert not verify_password("password", dummy_hash(4))


def test_generated_password_has_every_class() -> None:
    for _ in range(50):
        password = generate_password()
        assert len(password) == 16
        assert any(c in string.ascii_lowercase for c in password)
        assert any(c in string.ascii_uppercase for c in password)
        assert any(c in string.digits for c in password)
        assert any(not c.isalnum() for c in password)
        assert len(password.encode()) <= 72


def test_generated_password_length_is_configurable() -> None:
    assert len(generate_password(40)) == 40


def test_generation_retries_until_every_class_is_present(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter("aaaa" + "aB1!")
    monkeypatch.setattr(security, "secrets", SimpleNamespace(choice=lambda _alphabet: next(draws)))
    assert generate_password(4) == "aB1!"


def test_generated_passwords_differ() -> None:
    assert len({generate_password() for _ in range(20)}) == 20


# Tokens


def test_access_token_round_trip(token_settings: Settings) -> None:
    issued = datetime.now(UTC).replace(microsecond=0)
    token, claims = create_token(
        token_settings, SECRET, subject="42", token_type="access", session_id=SID, now=issued
    )
    assert claims.expires_at == issued + timedelta(minutes=15)
    decoded = decode_token(token_settings, SECRET, token, "access")
    assert decoded == claims
    assert decoded.session_id == SID
    assert len(decoded.jti) == 32


def test_refresh_token_carries_its_session(token_settings: Settings) -> None:
    issued = datetime.now(UTC).replace(microsecond=0)
    token, claims = create_token(
        token_settings, SECRET, subject="7", token_type="refresh", session_id="f" * 32, now=issued
    )
    assert claims.expires_at == issued + timedelta(days=7)
    decoded = decode_token(token_settings, SECRET, token, "refresh")
    assert (decoded.subject, decoded.session_id, decoded.token_type) == ("7", "f" * 32, "refresh")


def test_token_claims(token_settings: Settings) -> None:
    token, _ = create_token(
        token_settings, SECRET, subject="42", token_type="access", session_id=SID
    )
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    payload = jwt.decode(token, SECRET, algorithms=["HS256"], audience="openbank-api")
    assert payload["iss"] == payload["aud"] == "openbank-api"
    assert payload["typ"] == "access"
    assert payload["sub"] == "42"
    assert payload["sid"] == SID


def test_each_token_has_its_own_id(token_settings: Settings) -> None:
    ids = {
        create_token(token_settings, SECRET, subject="1", token_type="access", session_id=SID)[
            1
        ].jti
        for _ in range(10)
    }
    assert len(ids) == 10


@pytest.mark.parametrize(("made", "expected"), [("access", "refresh"), ("refresh", "access")])
def test_token_type_is_checked_both_ways(
    token_settings: Settings, made: str, expected: str
) -> None:
    token, _ = create_token(token_settings, SECRET, subject="1", token_type=made, session_id=SID)  # type: ignore[arg-type]
    with pytest.raises(TokenError, match=f"expected a {expected} token"):
        decode_token(token_settings, SECRET, token, expected)  # type: ignore[arg-type]


def test_expired_token_is_refused(token_settings: Settings) -> None:
    past = datetime.now(UTC) - timedelta(minutes=16)
    token, _ = create_token(
        token_settings, SECRET, subject="1", token_type="access", session_id=SID, now=past
    )
    with pytest.raises(TokenError, match="expired"):
        decode_token(token_settings, SECRET, token, "access")


def test_token_signed_with_another_key_is_refused(token_settings: Settings) -> None:
    token, _ = create_token(
        token_settings, "x" * 64, subject="1", token_type="access", session_id=SID
    )
    with pytest.raises(TokenError, match="Signature verification failed"):
        decode_token(token_settings, SECRET, token, "access")


@pytest.mark.parametrize(
    "changes",
    [{"jwt_issuer": "evil"}, {"jwt_audience": "evil"}, {"jwt_algorithm": "HS384"}],
)
def test_token_from_another_issuer_audience_or_algorithm_is_refused(
    token_settings: Settings, changes: dict[str, str]
) -> None:
    token, _ = create_token(
        token_settings.model_copy(update=changes),
        SECRET,
        subject="1",
        token_type="access",
        session_id=SID,
    )
    with pytest.raises(TokenError):
        decode_token(token_settings, SECRET, token, "access")


def test_unsigned_token_is_refused(token_settings: Settings) -> None:
    now = datetime.now(UTC)
    payload = {
        "sub": "1",
        "sid": SID,
        "typ": "access",
        "jti": "a" * 32,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "iss": "openbank-api",
        "aud": "openbank-api",
    }
    token = jwt.encode(payload, None, algorithm="none")
    with pytest.raises(TokenError):
        decode_token(token_settings, SECRET, token, "access")


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "sid", "typ", "jti", "iss", "aud"])
def test_every_claim_is_required(token_settings: Settings, missing: str) -> None:
    now = datetime.now(UTC)
    payload = {
        "sub": "1",
        "sid": SID,
        "typ": "access",
        "jti": "a" * 32,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "iss": "openbank-api",
        "aud": "openbank-api",
    }
    del payload[missing]
    token = jwt.encode(payload, SECRET, algorithm="HS256")
    with pytest.raises(TokenError):
        decode_token(token_settings, SECRET, token, "access")


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "a.b"])
def test_malformed_tokens_are_refused(token_settings: Settings, token: str) -> None:
    with pytest.raises(TokenError):
        decode_token(token_settings, SECRET, token, "access")


# Bounded password hashing


def test_password_work_runs_on_the_hashing_threads(token_settings: Settings) -> None:
    assert (
        asyncio.run(run_password_work(token_settings, verify_password, "x", dummy_hash(4))) is False
    )


def test_password_work_that_finds_no_free_slot_in_time_is_busy(token_settings: Settings) -> None:
    settings = token_settings.model_copy(
        update={"password_hash_concurrency": 1, "password_hash_queue_seconds": 0.05}
    )
    release = threading.Event()
    started = threading.Event()

    def occupy() -> str:
        started.set()
        release.wait(timeout=10)
        return "done"

    async def scenario() -> tuple[str, PasswordCheckBusy | None]:
        first = asyncio.ensure_future(run_password_work(settings, occupy))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
        refused = None
        try:
            await run_password_work(settings, lambda: "never runs")
        except PasswordCheckBusy as exc:
            refused = exc
        release.set()
        return await first, refused

    done, refused = asyncio.run(scenario())
    assert done == "done"  # the running one finished
    assert refused is not None  # the queued one gave up its turn
    assert (refused.status_code, refused.headers) == (503, {"Retry-After": "1"})


def test_generated_secrets_have_192_bits_and_a_fast_salted_hash() -> None:
    secret = security.generate_secret()
    assert len(secret) == 32  # 24 bytes, URL-safe base64
    stored = security.hash_generated_secret(secret)
    assert stored.startswith("sha256$")
    assert stored != security.hash_generated_secret(secret)  # salted
    assert verify_password(secret, stored)
    assert not verify_password(secret + "x", stored)
    assert secret not in stored


def test_verify_tells_the_schemes_apart_by_the_stored_hash() -> None:
    chosen = "correct-horse-battery"
    assert verify_password(chosen, hash_password(chosen, 4))
    assert not verify_password(chosen, security.hash_generated_secret("other-secret"))


def test_tokens_carry_their_sandbox(token_settings: Settings) -> None:
    token, claims = create_token(
        token_settings, SECRET, subject="u", token_type="access", session_id="s", sandbox_id="sbx_x"
    )
    assert claims.sandbox_id == "sbx_x"
    assert decode_token(token_settings, SECRET, token, "access").sandbox_id == "sbx_x"
    assert security.unverified_sandbox(token) == "sbx_x"
    plain, _ = create_token(
        token_settings, SECRET, subject="u", token_type="access", session_id="s"
    )
    assert "sbx" not in jwt.decode(plain, options={"verify_signature": False})
    assert decode_token(token_settings, SECRET, plain, "access").sandbox_id == "default"
    assert security.unverified_sandbox(plain) == "default"
    assert security.unverified_sandbox("not a token") is None


def test_a_token_checked_before_is_refused_once_it_expires(
    token_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued = datetime.now(UTC).replace(microsecond=0)
    token, claims = create_token(
        token_settings, SECRET, subject="1", token_type="access", session_id=SID, now=issued
    )
    assert decode_token(token_settings, SECRET, token, "access") == claims  # checked, and kept

    class AtExpiry(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> AtExpiry:
            return cls.fromtimestamp(claims.expires_at.timestamp(), tz)

    monkeypatch.setattr(security, "datetime", AtExpiry)
    with pytest.raises(TokenError, match="expired") as refused:
        decode_token(token_settings, SECRET, token, "access")
    assert refused.value.expired


def test_a_token_checked_with_one_key_is_not_taken_under_another(token_settings: Settings) -> None:
    issued = datetime.now(UTC).replace(microsecond=0)
    token, claims = create_token(
        token_settings, SECRET, subject="1", token_type="access", session_id=SID, now=issued
    )
    assert decode_token(token_settings, SECRET, token, "access") == claims
    with pytest.raises(TokenError, match="Signature verification failed"):
        decode_token(token_settings, "y" * 64, token, "access")
    other_audience = token_settings.model_copy(update={"jwt_audience": "another-api"})
    with pytest.raises(TokenError, match="Audience"):
        decode_token(other_audience, SECRET, token, "access")
