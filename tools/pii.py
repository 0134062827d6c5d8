"""Redact payment data (and, for logs, contact data) from free text before it is stored or shown.

Only numbers whose checksum holds are taken, so an order number that merely looks like a card
stays readable: card numbers (13–19 digits, spaces or dashes allowed) must pass Luhn; IBANs are
found by presidio's ``IbanRecognizer`` (the country's format and ISO 13616 mod-97). Cards are
scanned here rather than by presidio's ``CreditCardRecognizer``, whose one pattern misses
Mastercard's 2-series, 18–19 digit cards and a card written right before its CVV
("4111 1111 1111 1111 123"). presidio's recognizers are used directly: its ``AnalyzerEngine``
would load (and try to download) a spaCy model, which none of these need.
What a reviewer needs survives in the placeholder: ``[card •••• 1111]``, ``[IBAN DE•• …3000]``.

``redact`` masks cards, IBANs and CVV-like codes (3–4 digits shortly after a card number or
after "CVV", "CVC", "security code" …). ``redact_for_logs`` also masks email addresses and
phone numbers (python-phonenumbers, via presidio's ``PhoneRecognizer``).
"""

from __future__ import annotations

import bisect
import re
import string
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

#: Digits separated by at most one space or dash; the card numbers are looked for inside. Not after
#: "DE89 ": the rest of an IBAN whose checksum failed is not a card (Luhn passes 1 number in 10).
_DIGIT_RUN = re.compile(r"(?<![A-Za-z]\d\d[ -])\b\d(?:[ -]?\d){12,}\b")
_GROUP = re.compile(r"\d+")
#: How far after a card number (in characters) a 3–4 digit code is taken for its CVV.
CVV_WINDOW = 30
_CVV_AFTER_CARD = re.compile(r"\b\d{3,4}\b")
_CVV_KEYWORD = re.compile(
    r"(?i)\b(?:cvv2?|cvc2?|cid|csc|security\s+code|card\s+verification(?:\s+(?:code|value|number))?|"
    r"pr[üu]fnummer|cryptogramme)\b[^\d\n]{0,30}(\d{3,4})\b"
)
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)
_DIGITS = re.compile(r"\d")
_PHONE_HINT = re.compile(r"[+(]?\d(?:[ ().-]{0,3}\d){6,}\)?")


@dataclass(frozen=True)
class Finding:
    """One redacted span of the original text."""

    kind: str
    """``card``, ``iban``, ``cvv``, ``email`` or ``phone``."""
    start: int
    """Offset of the span in the original text."""
    end: int
    """Offset just past the span."""
    hint: str = ""
    """What the placeholder keeps: a card's or IBAN's last four digits, an IBAN's country."""

    def as_dict(self) -> dict[str, object]:
        """The finding as a JSON-ready dict."""
        return {"kind": self.kind, "start": self.start, "end": self.end, "hint": self.hint}


@dataclass(frozen=True)
class Redaction:
    """Redacted text and what was taken out of it."""

    text: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def kinds(self) -> set[str]:
        """The kinds of data found."""
        return {f.kind for f in self.findings}


class _Recognizers(NamedTuple):
    iban: Any
    email: Any
    phone: Any


@lru_cache(maxsize=1)
def _recognizers() -> _Recognizers:
    """The presidio recognizers, built on first use (importing presidio loads spaCy's code: ~1.5 s)."""
    import tldextract
    from presidio_analyzer.predefined_recognizers import EmailRecognizer, IbanRecognizer, PhoneRecognizer

    # Offline: the public-suffix snapshot shipped with tldextract, never a download.
    suffixes = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return bool(suffixes(pattern_text.rsplit("@", 1)[-1]).suffix)

    return _Recognizers(IbanRecognizer(), OfflineEmailRecognizer(), PhoneRecognizer(leniency=1))


def _spans(recognizer: Any, text: str) -> list[tuple[int, int]]:
    return [(r.start, r.end) for r in recognizer.analyze(text, recognizer.supported_entities, None)]


def luhn_ok(digits: str) -> bool:
    """Whether a string of digits passes the Luhn check (card numbers)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return bool(digits) and total % 10 == 0


def _cards(text: str) -> list[Finding]:
    """Luhn-valid 13–19 digit numbers, each starting and ending at a group of a digit run."""
    found: list[Finding] = []
    for run in _DIGIT_RUN.finditer(text):
        groups = [(m.start(), m.end()) for m in _GROUP.finditer(run.group())]
        i = 0
        while i < len(groups):
            best, digits = None, ""
            for j in range(i, len(groups)):  # bounded: at most 19 digits from group i
                digits += run.group()[groups[j][0]:groups[j][1]]
                if len(digits) > 19:
                    break
                if len(digits) >= 13 and luhn_ok(digits):
                    best = (j, digits)
            if best is None:
                i += 1
                continue
            j, digits = best
            found.append(Finding("card", run.start() + groups[i][0], run.start() + groups[j][1], digits[-4:]))
            i = j + 1
    return found


def _payment_findings(text: str) -> list[Finding]:
    found = _cards(text)
    # Length-preserving ASCII upper-casing: customers type IBANs in lower case too.
    upper = text.translate(_ASCII_UPPER)
    for start, end in _spans(_recognizers().iban, upper):
        compact = "".join(c for c in upper[start:end] if c.isalnum())
        found.append(Finding("iban", start, end, f"{compact[:2]} {compact[-4:]}"))
    found = _without_overlaps(found)
    for card in [f for f in found if f.kind == "card"]:
        match = _CVV_AFTER_CARD.search(text, card.end, card.end + CVV_WINDOW)
        if match:
            found.append(Finding("cvv", match.start(), match.end()))
    found.extend(Finding("cvv", m.start(1), m.end(1)) for m in _CVV_KEYWORD.finditer(text))
    return found


def _contact_findings(text: str) -> list[Finding]:
    found: list[Finding] = []
    if "@" in text:
        for start, end in _spans(_recognizers().email, text):
            # "/", "?", "=", "&" are legal in a local part but in practice mean a URL around the address.
            local = text[start:end].rsplit("@", 1)[0]
            found.append(Finding("email", start + 1 + max(local.rfind(c) for c in "/?&=:"), end))
    # python-phonenumbers is slow on long digit-dense text (0.7 s for 8 KB): ask it only about
    # windows around 7+ digit runs, in overlapping chunks of bounded length.
    for hint in _PHONE_HINT.finditer(text):
        start, end = max(0, hint.start() - 2), min(len(text), hint.end() + 1)
        for offset in range(start, end, 75):
            window = text[offset:min(end, offset + 100)]
            found += [Finding("phone", offset + s, offset + e) for s, e in _spans(_recognizers().phone, window)]
    return found


#: Which finding wins when two overlap (a card number is also a valid-looking phone number).
_PRIORITY = {"card": 0, "iban": 1, "email": 2, "cvv": 3, "phone": 4}


def _without_overlaps(findings: list[Finding]) -> list[Finding]:
    kept: list[Finding] = []  # sorted by start and disjoint, so their ends are sorted too
    starts: list[int] = []
    for f in sorted(findings, key=lambda f: (_PRIORITY[f.kind], f.start - f.end)):
        at = bisect.bisect_right(starts, f.start)
        if (at == 0 or kept[at - 1].end <= f.start) and (at == len(kept) or kept[at].start >= f.end):
            kept.insert(at, f)
            starts.insert(at, f.start)
    return kept


def placeholder(finding: Finding) -> str:
    """The text standing in for a finding."""
    if finding.kind == "card":
        return f"[card •••• {finding.hint}]"
    if finding.kind == "iban":
        country, last4 = finding.hint.split(" ")
        return f"[IBAN {country}•• …{last4}]"
    return f"[{finding.kind}]"


def _apply(text: str, findings: list[Finding]) -> Redaction:
    findings = _without_overlaps(findings)
    parts, cursor = [], 0
    for f in findings:
        parts += [text[cursor:f.start], placeholder(f)]
        cursor = f.end
    parts.append(text[cursor:])
    return Redaction("".join(parts), findings)


def redact(text: str) -> Redaction:
    """Mask card numbers (Luhn-valid), IBANs (mod-97-valid) and CVV-like codes in ``text``."""
    if not _DIGITS.search(text):
        return Redaction(text)
    return _apply(text, _payment_findings(text))


def redact_for_logs(text: str) -> Redaction:
    """``redact`` plus email addresses and phone numbers: for log lines and traces."""
    if not _DIGITS.search(text) and "@" not in text:
        return Redaction(text)
    payment = _payment_findings(text) if _DIGITS.search(text) else []
    return _apply(text, payment + _contact_findings(text))
