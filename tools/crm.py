"""Customer records: plan, VIP flag, account owner, contract notes, open incidents (read-only).

``CRM`` is the interface a Salesforce or HubSpot adapter would implement; ``FileCRM`` reads
``customers.jsonl`` from the data directory.
"""

from __future__ import annotations

from typing import Any, Protocol


class CRM(Protocol):
    """Read-only access to customer records."""

    def get(self, customer_id: str) -> dict[str, Any] | None:
        """The customer record, or None."""

    def find_by_email(self, email: str) -> dict[str, Any] | None:
        """The customer whose email domain matches ``email``, or None."""


class FileCRM:
    """Customers loaded from the company export."""

    def __init__(self, customers: dict[str, dict[str, Any]]) -> None:
        """Index customers by id and email domain."""
        self.customers = customers
        self.by_domain = {str(c.get("email_domain", "")).lower(): c for c in customers.values() if c.get("email_domain")}

    def get(self, customer_id: str) -> dict[str, Any] | None:
        """The customer record, or None."""
        return self.customers.get(customer_id)

    def find_by_email(self, email: str) -> dict[str, Any] | None:
        """The customer whose email domain matches ``email``, or None."""
        domain = email.rsplit("@", 1)[-1].lower().strip()
        return self.by_domain.get(domain)
