"""Templates of the offline engine's customer reply (formatted per ticket, never at import)."""

GREETING = {"friendly": "Hi {first_name},", "formal": "Dear {first_name},"}

#: One grounded fact, quoted from a current customer-facing source and cited by id.
FACT_LINE = "{sentence} [{source_id}]"

FACTS_INTRO = "Here is what applies to your case:"

MISSING_INFO_INTRO = "To move this forward, could you send us the following?"

MISSING_INFO_LINE = "- {question}"

NO_SOURCE_LINE = (
    "A specialist on our team is reviewing the details of your request and will follow up with a complete answer."
)

CLOSING = {"friendly": "Best regards,\n{sign_off}", "formal": "Kind regards,\n{sign_off}"}

#: The reply's subject. ``{subject}`` is the customer's text: pass the formatted result through
#: ``graph.packet.sanitize_subject`` (no markup or HTML tags, no control characters, ≤ 200 chars).
REPLY_SUBJECT = "Re: {subject}"

#: A redraft mentions what the reviewer's comment asked for, with the value from the ticket or its actions.
DETAILS_LINE = "For your reference — {details}."
