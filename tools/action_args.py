"""Typed arguments of every action, and how they are filled from the ticket, the customer and the thread.

One set of field types serves two views:

* :data:`EDIT_MODELS`: what a reviewer may edit. Every field is optional (absent = as proposed) and no
  other key is allowed. This is the contract of ``graph.inbox.ARGS_MODELS``, extended with ``currency``,
  ``percent`` and the workspace / users of account changes.
* :data:`ACTION_ARGS`: the complete arguments an action needs before it can be applied.
  :func:`missing_args` names what is absent, so an action can be proposed as ``incomplete`` and an accept
  refused (422) until an edit supplies the fields.

:func:`fill_args` builds the proposed arguments of one action: amounts with their currency (``$50``,
``50 USD``, ``50,00 €``, ``50 % off``), invoice ids (the playbook's pattern), the recipient (the ticket's
sender, else the customer record's contact email; never a guessed address), the workspace and the
affected users. Nothing is invented: an argument that cannot be found is reported missing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

_LINE_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069]")
_TEXT_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_EMAIL = re.compile(r"^(?=.{3,254}\Z)(?=[^@]{1,64}@)[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\Z")
_AMOUNT = re.compile(r"^(?:\d{1,7}|\d{1,3}(?:,\d{3}){1,2})(?:\.\d{1,2})?\Z")
_EMAIL_IN_TEXT = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}\b")
#: Used when the playbook's request type gives no invoice pattern.
DEFAULT_INVOICE = r"\bINV[-_ #]?\d{3,}\b|\binvoice\s*(?:no\.?|number|nr\.?|#)\s*:?\s*(?P<id>[A-Z0-9][A-Z0-9-]{2,}\d)\b"


def _one_line(value: str) -> str:
    if _LINE_CONTROL.search(value):
        raise ValueError("line breaks and control characters are not allowed here")
    return value


def _text(value: str) -> str:
    if _TEXT_CONTROL.search(value):
        raise ValueError("control characters are not allowed")
    return value


def _email(value: str) -> str:
    if value and not _EMAIL.match(value):  # "" is what a ticket without an address used to propose
        raise ValueError("not a valid email address")
    return value


def _amount(value: object) -> object:
    if isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
        raise ValueError("an amount is a number like 49.00")
    if isinstance(value, str):
        if not _AMOUNT.match(value.strip()):
            raise ValueError("an amount is a number like 49.00 (at most 2 decimals)")
        return Decimal(value.strip().replace(",", ""))
    return Decimal(str(value)) if isinstance(value, float) else value


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


Short = Annotated[str, StringConstraints(min_length=1, max_length=128), AfterValidator(_one_line)]
Subject = Annotated[str, StringConstraints(max_length=300), AfterValidator(_one_line)]
Para = Annotated[str, StringConstraints(max_length=2_000), AfterValidator(_text)]
Message = Annotated[str, StringConstraints(max_length=5_000), AfterValidator(_text)]
Body = Annotated[str, StringConstraints(max_length=50_000), AfterValidator(_text)]
Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(_email)]
Invoice = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-./ ]{0,63}$")]
Amount = Annotated[Decimal, BeforeValidator(_amount), Field(gt=0, le=1_000_000, decimal_places=2)]
Percent = Annotated[Decimal, BeforeValidator(_amount), Field(gt=0, le=100, decimal_places=2)]
Currency = Annotated[str, BeforeValidator(_upper), StringConstraints(pattern=r"^[A-Z]{3}$")]
Listed = Annotated[list[Short], Field(max_length=50)]
Emails = Annotated[list[Annotated[str, StringConstraints(min_length=3, max_length=254), AfterValidator(_email)]], Field(max_length=50)]
Score = Annotated[float, Field(ge=-1_000, le=1_000)]
Scope = Literal["subscription", "account", "order"]
STRICT = ConfigDict(extra="forbid", hide_input_in_errors=True)

_MONEY = {"invoice": Invoice, "amount": Amount, "currency": Currency, "reason": Para}
_CREDIT = {**_MONEY, "percent": Percent}
_CHANGE = {"request": Para, "workspace": Short, "users": Emails}
#: The editable arguments of each action (a superset of ``graph.inbox.ARG_FIELDS``).
ARG_FIELDS: dict[str, dict[str, Any]] = {
    "send_reply": {"to": Email, "subject": Subject, "body": Body, "citations": Listed},
    "issue_refund": _MONEY, "issue_credit": _CREDIT, "offer_compensation": _CREDIT,
    "create_escalation": {"team": Short, "summary": Para, "needs": Listed},
    "notify_team": {"team": Short, "message": Message},
    "add_internal_tag": {"tags": Listed}, "set_tags": {"tags": Listed},
    "log_knowledge_gap": {"category": Short, "query": Para, "top_score": Score},
    "set_priority": {"priority": Short}, "assign_owner": {"owner": Short}, "link_duplicate": {"duplicate_of": Short},
    "add_internal_note": {"body": Message},
    "close_account": {**_CHANGE, "scope": Scope, "effective": Short, "reference": Short},
    "change_permissions": {**_CHANGE, "role": Short},
    "security_change": _CHANGE,
    "legal_statement": {"request": Para, "kind": Short, "users": Emails},
    "customer_promise": {"request": Para},
}


def _edit_model(name: str, fields: dict[str, Any]) -> type[BaseModel]:
    optional: dict[str, Any] = {key: (kind | None, None) for key, kind in fields.items()}
    return create_model(f"{name}_edit", __config__=STRICT, **optional)


#: Edit models: every field optional, unknown keys refused.
EDIT_MODELS: dict[str, type[BaseModel]] = {name: _edit_model(name, fields) for name, fields in ARG_FIELDS.items()}


class _Args(BaseModel):
    model_config = STRICT


class SendReplyArgs(_Args):
    """A customer reply: never without a recipient."""

    to: Annotated[Email, StringConstraints(min_length=3)]
    subject: Subject
    body: Annotated[Body, StringConstraints(min_length=1)]
    citations: Listed = []


class RefundArgs(_Args):
    """Money back: a positive amount with its currency, the invoice it refers to."""

    amount: Amount
    currency: Currency
    invoice: Invoice | None = None
    reason: Para = ""


class CreditArgs(_Args):
    """A credit, discount or compensation: an amount with its currency, or a percentage."""

    amount: Amount | None = None
    currency: Currency | None = None
    percent: Percent | None = None
    invoice: Invoice | None = None
    reason: Para = ""

    @model_validator(mode="after")
    def _amount_or_percent(self) -> CreditArgs:
        if (self.amount is None) == (self.percent is None):
            raise ValueError("give an amount (with currency) or a percent, not both")
        if self.amount is not None and self.currency is None:
            raise ValueError("an amount needs its currency")
        return self


class AccountChangeArgs(_Args):
    """Closing an account or cancelling a subscription or order."""

    request: Para
    workspace: Short | None = None  # required where the playbook says so (a company with workspaces)
    scope: Scope = "account"
    effective: Short | None = None
    reference: Short | None = None
    users: Emails = []


class PermissionArgs(_Args):
    """A role, seat or ownership change: where and for whom."""

    request: Para
    workspace: Short | None = None
    users: Annotated[Emails, Field(min_length=1)]
    role: Short | None = None


class SecurityArgs(_Args):
    """Securing an account: sign out sessions, reset credentials, revoke keys."""

    request: Para
    workspace: Short | None = None
    users: Emails = []


class LegalArgs(_Args):
    """A privacy or legal statement (erasure, access request, legal notice)."""

    request: Annotated[Para, StringConstraints(min_length=1)]
    kind: Short | None = None
    users: Emails = []


class PromiseArgs(_Args):
    """A promise to the customer (a date, a commitment)."""

    request: Annotated[Para, StringConstraints(min_length=1)]


class EscalationArgs(_Args):
    """A hand-off to a team."""

    team: Short
    summary: Para
    needs: Listed = []


def _simple(name: str, **fields: Any) -> type[BaseModel]:
    definitions: dict[str, Any] = {k: (v, ...) for k, v in fields.items()}
    model: type[BaseModel] = create_model(f"{name}_args", __base__=_Args, **definitions)
    return model


#: Complete arguments of every action.
ACTION_ARGS: dict[str, type[BaseModel]] = {
    "send_reply": SendReplyArgs, "issue_refund": RefundArgs, "issue_credit": CreditArgs, "offer_compensation": CreditArgs,
    "close_account": AccountChangeArgs, "change_permissions": PermissionArgs, "security_change": SecurityArgs,
    "legal_statement": LegalArgs, "customer_promise": PromiseArgs, "create_escalation": EscalationArgs,
    "notify_team": _simple("notify_team", team=Short, message=Message),
    "add_internal_tag": _simple("add_internal_tag", tags=Annotated[Listed, Field(min_length=1)]),
    "set_tags": _simple("set_tags", tags=Annotated[Listed, Field(min_length=1)]),
    "log_knowledge_gap": create_model("log_knowledge_gap_args", __base__=_Args, category=(Short, ...), query=(Para, ...),
                                      top_score=(Score, 0.0)),
    "set_priority": _simple("set_priority", priority=Short), "assign_owner": _simple("assign_owner", owner=Short),
    "link_duplicate": _simple("link_duplicate", duplicate_of=Short), "add_internal_note": _simple("add_internal_note", body=Message),
}
KNOWN_ACTIONS = frozenset(ACTION_ARGS)
#: Every argument a playbook rule may name, per action.
ARG_NAMES: dict[str, frozenset[str]] = {name: frozenset(ARG_FIELDS[name]) for name in ARG_FIELDS}

Finder = Literal["money", "percent", "invoice", "recipient", "workspace", "users", "evidence", "subject", "pattern"]
#: How an argument is found when the playbook does not say.
DEFAULT_FINDERS: dict[str, Finder] = {"amount": "money", "currency": "money", "percent": "percent", "invoice": "invoice",
                                      "to": "recipient", "workspace": "workspace", "users": "users", "reason": "evidence",
                                      "request": "evidence", "reference": "pattern", "subject": "subject"}


class ArgRule(BaseModel):
    """How a request type fills one argument of its action (a ``requests.<type>.args`` entry of the playbook)."""

    model_config = ConfigDict(extra="forbid")
    required: bool = False
    find: Finder | None = Field(None, description="Where the value comes from; default by argument name.")
    pattern: str | None = Field(None, description="Regular expression (named group `id` or the whole match).")
    value: str | None = Field(None, description="A fixed value (e.g. scope: subscription).")
    ask: str | None = Field(None, description="The question to ask the customer when the value is missing.")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from None
        return value


def missing_args(action: str, args: Mapping[str, Any], required: tuple[str, ...] | list[str] = ()) -> list[str]:
    """Names of the required arguments of ``action`` that ``args`` lacks or holds invalid values for.

    Args:
        action: Action name; an unknown action only checks ``required``.
        args: The proposed (or edited) arguments.
        required: Extra required names from the playbook's request type (e.g. ``invoice``).
    """
    blank = [name for name in required if _blank(args.get(name))]
    model = ACTION_ARGS.get(action)
    if model is None:
        return blank
    try:
        model.model_validate({k: v for k, v in args.items() if not _blank(v)})
    except ValidationError as exc:
        names = [str(e["loc"][0]) if e["loc"] else _whole(action, args) for e in exc.errors(include_input=False)]
        blank += names
    names = list(dict.fromkeys(n for n in blank if n))
    # The currency belongs to the amount: when the amount is missing, asking for it asks for both.
    return [n for n in names if not (n == "currency" and "amount" in names)]


def _whole(action: str, args: Mapping[str, Any]) -> str:
    """The field a model-level error is about (credit: amount or percent, then currency)."""
    if action in ("issue_credit", "offer_compensation"):
        return "currency" if not _blank(args.get("amount")) and _blank(args.get("currency")) else "amount"
    return ""


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple | dict) and len(value) == 0)


def validate_args(action: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """The complete, typed arguments of ``action`` as plain JSON; ``ValueError`` naming the missing fields."""
    model = ACTION_ARGS.get(action)
    if model is None:
        raise ValueError(f"unknown action '{action}'")
    missing = missing_args(action, args)
    if missing:
        raise ValueError(f"{action}: missing or invalid arguments: {', '.join(missing)}")
    dumped: dict[str, Any] = model.model_validate({k: v for k, v in args.items() if not _blank(v)}).model_dump(mode="json")
    return dumped


# ---------------------------------------------------------------------------------------------- money

_CODES = "USD|EUR|GBP|JPY|NZD|AUD|CAD|CHF|SEK|NOK|DKK|PLN|CZK|INR|BRL|MXN|ZAR|SGD|HKD|CNY"
_SYMBOLS = {"US$": "USD", "NZ$": "NZD", "AU$": "AUD", "A$": "AUD", "CA$": "CAD", "C$": "CAD", "R$": "BRL",
            "$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
_WORDS = {"dollar": "USD", "dollars": "USD", "bucks": "USD", "euro": "EUR", "euros": "EUR", "pound": "GBP",
          "pounds": "GBP", "yen": "JPY"}
_NUM = r"(?P<num>\d{1,3}(?:[,.\u00a0\u202f' ]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
_SYM = "|".join(re.escape(s) for s in _SYMBOLS)
_PREFIX = re.compile(rf"(?P<cur>{_SYM}|\b(?:{_CODES})\b)\s?{_NUM}(?![\d%])", re.IGNORECASE)
_SUFFIX = re.compile(rf"(?<![\d.,]){_NUM}\s?(?P<cur>{_SYM}|(?:{_CODES}|{'|'.join(_WORDS)})\b)", re.IGNORECASE)
_BARE = re.compile(rf"\b(?:refund(?:ed)?|credit(?:ed)?|compensation|reimburse(?:d|ment)?|amount|discount)\s+(?:of\s+)?{_NUM}"
                   r"(?![\d%.,]|\s?(?:%|percent|per cent|seats?|users?|days?|months?|hours?|years?))", re.IGNORECASE)
_PERCENT = re.compile(rf"(?<![\d.,]){_NUM}\s?(?:%|percent\b|per cent\b|prozent\b|pour cent\b|por ciento\b|procent\b)", re.IGNORECASE)
_DISCOUNT = re.compile(r"\b(off|discount\w*|rebate|reduction|credit|rabatt|nachlass|ermäßigung|réduction|remise|descuento|"
                       r"desconto|korting|sconto)\b", re.IGNORECASE)


class Money(BaseModel):
    """An amount found in text; ``currency`` is None when the text gives none."""

    model_config = ConfigDict(frozen=True)
    value: Decimal
    currency: str | None
    start: int


def parse_number(text: str) -> Decimal | None:
    """``"1,140"`` → 1140, ``"50,00"`` → 50.00, ``"1.234,56"`` → 1234.56, ``"49.5"`` → 49.5 (None if not a number)."""
    s = re.sub(r"[\u00a0\u202f' ]", "", text)
    if "," in s and "." in s:
        decimal_sep = "," if s.rfind(",") > s.rfind(".") else "."
        s = s.replace("." if decimal_sep == "," else ",", "").replace(decimal_sep, ".")
    elif "," in s:
        s = s.replace(",", ".") if re.search(r",\d{1,2}$", s) and s.count(",") == 1 else s.replace(",", "")
    elif s.count(".") > 1 or re.search(r"^\d{1,3}\.\d{3}$", s):
        s = s.replace(".", "")  # 1.234 is a thousands separator: amounts have at most 2 decimals
    try:
        value = Decimal(s)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _currency(token: str) -> str | None:
    upper = token.upper()
    return _SYMBOLS.get(token) or _SYMBOLS.get(upper) or _WORDS.get(token.lower()) or (upper if re.fullmatch(_CODES, upper) else None)


def find_amounts(text: str) -> list[Money]:
    """Money amounts in ``text``, in order: ``$50``, ``50 USD``, ``50,00 €``, ``NZD 1,140``, ``a refund of 50``."""
    found: dict[int, Money] = {}
    for pattern in (_PREFIX, _SUFFIX, _BARE):
        for match in pattern.finditer(text or ""):
            value, at = parse_number(match.group("num")), match.start("num")
            if value is None or value <= 0 or at in found:  # the first pattern (with its currency) wins
                continue
            cur = match.groupdict().get("cur")
            found[at] = Money(value=value, currency=_currency(cur) if cur else None, start=at)
    return [found[k] for k in sorted(found)]


def find_percents(text: str) -> list[Decimal]:
    """Percentages that are a discount or credit (``50 % off``, ``a 20% discount``), not ``99.95% uptime``."""
    out = []
    for match in _PERCENT.finditer(text or ""):
        around = text[max(0, match.start() - 30) : match.end() + 30]
        value = parse_number(match.group("num"))
        if value is not None and 0 < value <= 100 and _DISCOUNT.search(around):
            out.append(value)
    return out


def pick_amount(evidence: list[Money], text: list[Money]) -> Money | None:
    """The one amount of the request's sentence, else the one amount of the thread; None when ambiguous."""
    for found in (evidence, text):
        distinct = list(dict.fromkeys((m.value, m.currency) for m in found))
        if len(distinct) == 1:
            return found[0]
        if distinct:
            return None  # several amounts: the reviewer picks, nothing is guessed
    return None


# ---------------------------------------------------------------------------------------------- filling

def valid_email(value: Any) -> str | None:
    """``value`` stripped if it is a valid email address, else None."""
    text = str(value or "").strip()
    return text if text and _EMAIL.match(text) else None


def recipient(ticket: Mapping[str, Any], customer: Mapping[str, Any] | None) -> str | None:
    """The reply address: the ticket's sender, else the customer record's contact email (never guessed)."""
    record = customer or {}
    for value in (ticket.get("email"), record.get("contact_email"), record.get("email")):
        found = valid_email(value)
        if found:
            return found
    return None


def _search(pattern: str, *texts: str) -> str | None:
    """The one match of ``pattern`` in the first text that has any (named group ``id`` if present); None if several."""
    compiled = re.compile(pattern, re.IGNORECASE)
    for text in texts:
        ids = list(dict.fromkeys(_match_id(m) for m in compiled.finditer(text or "")))
        if len(ids) == 1:
            return ids[0]
        if ids:
            return None  # several candidates: the reviewer picks
    return None


def _match_id(match: re.Match[str]) -> str:
    value = match.groupdict().get("id")
    return (value or match.group(0)).strip()


def _users(evidence: str, text: str, sender: str | None) -> list[str]:
    for source in (evidence, text):
        found = [e for e in dict.fromkeys(m.group(0) for m in _EMAIL_IN_TEXT.finditer(source or "")) if e != sender]
        if found:
            return found[:50]
    if sender and re.search(r"\b(me|my|myself|mine)\b", evidence or "", re.IGNORECASE):
        return [sender]
    return []


def _find(name: str, rule: ArgRule, ticket: Mapping[str, Any], customer: Mapping[str, Any], text: str, evidence: str) -> Any:
    finder = rule.find or DEFAULT_FINDERS.get(name)
    if finder == "recipient":
        return recipient(ticket, customer)
    if finder == "invoice":
        return _search(rule.pattern or DEFAULT_INVOICE, evidence, text)
    if finder == "workspace":
        if rule.pattern and (found := _search(rule.pattern, evidence)):
            return found
        return customer.get("workspace") or (_search(rule.pattern, text) if rule.pattern else None)
    if finder == "users":
        return _users(evidence, text, valid_email(ticket.get("email")))
    if finder == "evidence":
        return (evidence or str(ticket.get("subject") or "")).strip()[:2000] or None
    if finder == "subject":
        return str(ticket.get("subject") or "").strip()[:300] or None
    if finder == "pattern" and rule.pattern:
        return _search(rule.pattern, evidence, text)
    return None


def fill_args(action: str, ticket: Mapping[str, Any], customer: Mapping[str, Any] | None, thread_text: str, *,
              evidence: str = "", rules: Mapping[str, ArgRule] | None = None, known: Mapping[str, Any] | None = None,
              currency: str | None = None) -> tuple[dict[str, Any], list[str]]:
    """The proposed arguments of ``action`` and the names of the required ones that could not be filled.

    Args:
        action: Action name (``issue_refund``, ``send_reply`` …).
        ticket: The ticket (``subject``, ``body``, ``email``, ``customer_id``).
        customer: The CRM record (``contact_email`` or ``email``, ``workspace``), or None.
        thread_text: Everything the customer wrote in the thread (searched for amounts, invoices, users).
        evidence: The sentence that carries the request; searched first.
        rules: The request type's ``args`` rules from the playbook (extra required fields, patterns, fixed values).
        known: Arguments the caller already has (draft subject and body, escalation team); they win.
        currency: The playbook's default currency for an amount written without one.
    """
    record, rules, known = customer or {}, dict(rules or {}), dict(known or {})
    names = list(dict.fromkeys([*ARG_FIELDS.get(action, {}), *rules]))
    args: dict[str, Any] = {}
    if "amount" in names and "amount" not in known:
        money = pick_amount(find_amounts(evidence), find_amounts(thread_text))
        if money is not None:
            args.update(amount=str(money.value), currency=money.currency or currency)
    if "percent" in names and "amount" not in args and "percent" not in known:
        for found in (find_percents(evidence), find_percents(thread_text)):
            if len(set(found)) == 1:
                args["percent"] = str(found[0])
            if found:
                break  # several different percentages: the reviewer picks
    for name in names:
        rule = rules.get(name, ArgRule())
        if name in known or name in args or name in ("amount", "currency", "percent") and rule.value is None:
            continue
        value = rule.value if rule.value is not None else _find(name, rule, ticket, record, thread_text, evidence)
        if not _blank(value):
            args[name] = value
    args.update({k: v for k, v in known.items() if not _blank(v)})
    args = {k: v for k, v in args.items() if not _blank(v)}
    required = [name for name, rule in rules.items() if rule.required]
    return args, missing_args(action, args, required)
