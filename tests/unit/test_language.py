"""tools.language: common ticket languages, the English default for short or id-only texts, offline."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

import tools.language as language
from tools.language import DEFAULT, detect_language, words_of

PARAPHRASES = Path(__file__).resolve().parents[1] / "data" / "injection_paraphrases.jsonl"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Hallo, seit gestern können wir keine Dokumente mehr exportieren. Können Sie das bitte prüfen?", "de"),
        ("Olá, não consigo entrar na minha conta desde ontem e preciso assinar um contrato hoje.", "pt"),
        ("Bonjour, nous avons été facturés deux fois ce mois-ci, pouvez-vous rembourser le doublon ?", "fr"),
        ("Hola, no puedo descargar la factura de marzo desde el panel de administración.", "es"),
        ("Hello, our users cannot open signing links since this morning. Could you check?", "en"),
        ("Buongiorno, vorrei aggiungere tre utenti al nostro piano annuale.", "it"),
        ("Goedemorgen, de synchronisatie met onze CRM werkt sinds maandag niet meer.", "nl"),
    ],
)
def test_ticket_languages(text: str, code: str) -> None:
    detected, confidence = detect_language(text)
    assert detected == code
    assert 0.5 <= confidence <= 1.0


@pytest.mark.parametrize(
    "text", ["Merci beaucoup", "Vielen Dank!", "Hi", "", "INV-20718 cus_003 4417", "Re: Fwd: INV-2231", "https://x.example.com/a/1 ok"]
)
def test_short_or_id_only_texts_default_to_english_with_low_confidence(text: str) -> None:
    detected, confidence = detect_language(text)
    assert detected == DEFAULT
    assert confidence < 0.3


def test_ids_and_addresses_are_not_words() -> None:
    assert words_of("Refund INV-20718 for cus_003 at kestrel-legal.example.com, mail ops@example.com, 140 seats") == [
        "Refund", "for", "at", "mail", "seats",
    ]


def test_english_majority_with_a_quoted_german_error_is_english() -> None:
    text = (
        "Hello, every upload fails for our team since the update. The error message says "
        "'Fehler beim Hochladen der Datei'. We tried Chrome and Firefox. Could you have a look?"
    )
    assert detect_language(text)[0] == "en"


def test_german_ticket_with_an_english_signature_is_german() -> None:
    text = (
        "Guten Tag, unsere Rechnung für März enthält zwei Lizenzen zu viel. Bitte korrigieren Sie die "
        "Rechnung und senden Sie uns eine Gutschrift. Best regards, Anna"
    )
    assert detect_language(text)[0] == "de"


def test_paraphrase_set_languages() -> None:
    rows = [json.loads(line) for line in PARAPHRASES.read_text(encoding="utf-8").splitlines() if line.strip()]
    wrong = [(r["lang"], r["text"]) for r in rows if detect_language(r["text"])[0] != r["lang"]]
    assert len({r["lang"] for r in rows}) >= 8
    assert len(wrong) <= 0.03 * len(rows), wrong


def test_works_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("network used")

    language._identifier.cache_clear()
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    try:
        assert detect_language("Bonjour, je n'arrive plus à me connecter depuis ce matin.")[0] == "fr"
    finally:
        language._identifier.cache_clear()
