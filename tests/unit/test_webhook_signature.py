"""The webhook signature: HMAC-SHA256 over ``"<timestamp>.<raw body>"``, a timestamp tolerance, reasons that reveal nothing."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from api.webhooks import SignatureError, sign, verify

BODY = b'{"event_id": "e1", "ticket": {"id": "T-1", "subject": "Hi", "body": "Hello"}}'
AT = 1_760_000_000


def test_sign_is_the_documented_hmac() -> None:
    expected = hmac.new(b"whsec_s3cret", b"1760000000." + BODY, hashlib.sha256).hexdigest()
    assert sign("whsec_s3cret", AT, BODY) == f"sha256={expected}"


def test_a_signature_by_any_active_secret_verifies_and_returns_the_timestamp() -> None:
    signature = sign("new", AT, BODY)
    assert verify(["old", "new"], str(AT), signature, BODY, 300, at=AT + 299) == AT
    assert verify(["new"], str(AT), f"  {signature} ", BODY, 300, at=AT - 300) == AT  # a sender clock slightly ahead


@pytest.mark.parametrize("change", ["body", "timestamp", "secret", "scheme"])
def test_any_change_fails_with_the_same_reason(change: str) -> None:
    body, timestamp, secret, signature = BODY, str(AT), "s3cret", sign("s3cret", AT, BODY)
    if change == "body":
        body = BODY.replace(b"Hello", b"Hellp")
    elif change == "timestamp":
        timestamp = str(AT + 1)
    elif change == "secret":
        secret = "other"
    else:
        signature = signature.replace("sha256=", "sha1=")
    with pytest.raises(SignatureError, match="^invalid signature") as info:
        verify([secret], timestamp, signature, body, 300, at=AT)
    assert signature.split("=")[1] not in str(info.value) and secret not in str(info.value)


def test_no_secret_fails_like_a_wrong_signature() -> None:
    with pytest.raises(SignatureError, match="^invalid signature"):
        verify([], str(AT), sign("anything", AT, BODY), BODY, 300, at=AT)


@pytest.mark.parametrize(("timestamp", "signature", "reason"), [
    (None, "sha256=00", "missing"), (str(AT), None, "missing"), ("17e8", "sha256=00", "unix seconds"),
    ("-5", "sha256=00", "unix seconds"), ("１２３", "sha256=00", "unix seconds"),
    (str(AT - 301), "sha256=00", "more than 300 s"), (str(AT + 301), "sha256=00", "more than 300 s"),
])
def test_missing_malformed_and_stale_timestamps(timestamp: str | None, signature: str | None, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        verify(["s3cret"], timestamp, signature, BODY, 300, at=AT)
