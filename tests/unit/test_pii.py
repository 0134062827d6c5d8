"""PII redaction: checksum-valid cards and IBANs masked, look-alikes kept, contacts masked only for logs."""

from __future__ import annotations

import logging

import pytest

from api.logging import RedactingFilter, safe_errors, summary
from tools.pii import luhn_ok, redact, redact_for_logs


@pytest.mark.parametrize(("text", "last4"), [
    ("Please refund my card 4111 1111 1111 1111, thanks", "1111"),
    ("card: 5500-0000-0000-0004", "0004"),
    ("amex 378282246310005 was charged twice", "0005"),
    ("amex 3782 822463 10005", "0005"),
    ("mastercard 2-series 2223 0031 2200 3222", "3222"),
])
def test_test_cards_are_masked_keeping_the_last_four(text: str, last4: str) -> None:
    result = redact(text)
    assert f"[card •••• {last4}]" in result.text
    assert [f.kind for f in result.findings] == ["card"]
    digits = "".join(c for c in text if c.isdigit())
    assert digits not in "".join(c for c in result.text if c.isdigit())


def test_findings_point_into_the_original_text() -> None:
    text = "x 4111-1111-1111-1111 y"
    (finding,) = redact(text).findings
    assert text[finding.start:finding.end] == "4111-1111-1111-1111"
    assert finding.as_dict() == {"kind": "card", "start": 2, "end": 21, "hint": "1111"}


def test_an_invalid_luhn_number_is_kept_as_it_is_an_order_number() -> None:
    assert not luhn_ok("1234567890123456")
    text = "my order 1234 5678 9012 3456 has not arrived"
    assert redact(text).text == text


def test_valid_iban_masked_and_invalid_one_kept() -> None:
    valid = redact("Pay it to DE89 3704 0044 0532 0130 00 please")
    assert valid.text == "Pay it to [IBAN DE•• …3000] please"
    assert redact("iban de89370400440532013000").text == "iban [IBAN DE•• …3000]"
    invalid = "Pay it to DE89 3704 0044 0532 0130 01 please"
    assert redact(invalid).text == invalid


@pytest.mark.parametrize("text", [
    "card 4111 1111 1111 1111 cvv 123",
    "card 4111 1111 1111 1111 123",
    "4111111111111111 exp 12/27, 123",
    "the CVC is 1234",
    "security code: 987",
])
def test_cvv_after_a_card_or_keyword_is_masked(text: str) -> None:
    result = redact(text)
    assert "[cvv]" in result.text
    assert "cvv" in result.kinds
    assert not any(code in result.text for code in ("123", "1234", "987"))


def test_three_digits_far_from_any_card_stay() -> None:
    text = "card 4111 1111 1111 1111. Our ticket queue has had a backlog of 123 items this week"
    assert redact(text).text.endswith("backlog of 123 items this week")


def test_emails_and_phones_masked_only_for_logs() -> None:
    text = "Write to jane.doe@example.com or call +49 30 1234567 or (415) 555-2671"
    assert redact(text).text == text
    logged = redact_for_logs(text)
    assert logged.text == "Write to [email] or call [phone] or [phone]"
    assert logged.kinds == {"email", "phone"}


def test_logs_mask_everything_at_once() -> None:
    text = "card 4111 1111 1111 1111 cvv 123, IBAN DE89370400440532013000, me@example.org, +1 415 555 2671"
    logged = redact_for_logs(text).text
    for raw in ("4111", "DE8937", "me@example.org", "555 2671", " 123"):
        assert raw not in logged
    assert "[card •••• 1111]" in logged and "[IBAN DE•• …3000]" in logged


def test_text_without_digits_or_at_is_returned_untouched() -> None:
    assert redact_for_logs("nothing to see here").findings == []


def test_log_filter_redacts_message_args_and_traceback(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test_pii.filter")
    handler = caplog.handler
    handler.addFilter(RedactingFilter())
    try:
        logger.warning("ticket from %s with card %s", "me@example.org", "4111 1111 1111 1111")
        try:
            raise ValueError("body was {'card': '5500-0000-0000-0004'}")
        except ValueError:
            logger.exception("failed")
    finally:
        handler.removeFilter(handler.filters[-1])
    text = caplog.text
    assert "[email]" in text and "[card •••• 1111]" in text and "[card •••• 0004]" in text
    assert "me@example.org" not in text and "4111" not in text and "5500-0000" not in text


def test_safe_errors_drop_input_and_survive_nan_and_surrogates() -> None:
    errors = [
        {"type": "string_too_long", "loc": ("body", "subject"), "msg": "String should have at most 10 characters",
         "input": "4111 1111 1111 1111", "ctx": {"max_length": 10}},
        {"type": "finite_number", "loc": ("body", "amount"), "msg": "Input should be a finite number", "input": float("nan")},
        {"type": "extra_forbidden", "loc": ("body", "\ud800key"), "msg": "Extra inputs are not permitted", "input": "\ud800"},
    ]
    safe = safe_errors(errors)
    assert [set(e) for e in safe] == [{"loc", "msg", "type"}] * 3
    import json

    encoded = json.dumps(safe, allow_nan=False).encode("utf-8")  # strict JSON, encodable
    assert b"4111" not in encoded
    assert safe[2]["loc"][1] == "\\ud800key"
    assert summary(errors).startswith("body.subject: String should have at most 10 characters")


def test_uvicorn_access_records_keep_their_args_for_the_access_formatter() -> None:
    from uvicorn.logging import AccessFormatter

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/v1/tickets?email=me@example.org&card=4111111111111111", "1.1", 200),
                               None)
    assert RedactingFilter().filter(record)
    line = AccessFormatter("%(client_addr)s %(request_line)s %(status_code)s", use_colors=False).format(record)
    assert "me@example.org" not in line and "4111111111111111" not in line
    assert "GET /v1/tickets?email=[email]&card=[card •••• 1111]" in line and line.endswith("200 OK")


def test_install_attaches_one_filter_to_root_and_uvicorn_handlers() -> None:
    from api.logging import install

    handler = logging.StreamHandler()
    uvicorn_error = logging.getLogger("uvicorn.error")
    uvicorn_error.addHandler(handler)
    try:
        install()
        install()
        for target in (handler, uvicorn_error, logging.getLogger()):
            assert sum(isinstance(f, RedactingFilter) for f in target.filters) == 1
    finally:
        uvicorn_error.removeHandler(handler)
        for target in (uvicorn_error, logging.getLogger(), *logging.getLogger().handlers):
            for f in [f for f in target.filters if isinstance(f, RedactingFilter)]:
                target.removeFilter(f)
