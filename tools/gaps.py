"""Knowledge gaps → proposals a person approves.

Signals, per workspace: a logged knowledge gap (no confident source, or no source answering the request),
a redraft comment, a rejection, and an edited reply (the reviewer wrote what the sources did not say).
Tickets with signals are grouped into topics by the similarity of their text (greedy single-link clustering
of the ticket embeddings), ranked by how many tickets × their impact (plan, SLA risk, escalation), and each
topic becomes a **proposal**: a draft article assembled from the replies the reviewers actually sent on
those tickets (extractive: their sentences, minus greetings, sign-offs, questions and what the knowledge
base already says). Support ops accepts it (a Markdown file with front matter is written into the
workspace's knowledge; the next load indexes that document only, by content hash), edits it, or dismisses it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from tools import schema as t
from tools.store import Store

#: Two tickets are about the same topic when their texts are at least this similar (cosine, unit vectors).
TOPIC_SIMILARITY = 0.55
#: Sentences of sent replies that never go into an article.
_SKIP = re.compile(r"^(hi|hello|dear|thanks|thank you|best|kind regards|regards|cheers)\b|\?$|\[[a-z0-9_-]+\]|"
                   r"could you send us|to move this forward|here is what applies", re.I)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[^\W\d_]{4,}", re.UNICODE)
_STOP = frozenset("this that with from your have will would could should there their about which what when where "
                  "please thanks hello team support ticket customer".split())


@dataclass
class Signal:
    """One reason to think the knowledge base lacks something, tied to a ticket."""

    thread_id: str
    ticket_id: str
    kind: str  # no_source | redraft | rejected | edited
    category: str = ""
    detail: str = ""


@dataclass
class Topic:
    """Tickets about one thing the knowledge base does not answer well, with what reviewers sent on them."""

    id: str
    title: str
    tickets: list[dict[str, Any]]
    signals: Counter[str]
    score: float
    category: str
    owner: str
    article: str = ""
    sentences: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The proposal as JSON."""
        return {"id": self.id, "title": self.title, "score": round(self.score, 2), "category": self.category,
                "owner": self.owner, "signals": dict(self.signals), "tickets": self.tickets, "article": self.article}


def signals(store: Store, workspace: str) -> list[Signal]:
    """Every gap signal of ``workspace``'s tickets."""
    g, f = t.knowledge_gaps.c, t.feedback.c
    found = [Signal(thread_id="", ticket_id=str(r["ticket_id"]), kind="no_source", category=str(r["category"] or ""),
                    detail=str(r["query"] or "")) for r in store.query(select(g.ticket_id, g.category, g.query)
                                                                         .where(g.workspace == workspace))]
    for r in store.query(select(f.thread_id, f.ticket_id, f.category, f.kind, f.detail).where(f.workspace == workspace)):
        detail = json.loads(str(r["detail"] or "null"))
        kind = _signal_kind(str(r["kind"]), detail)
        if kind is not None:
            comment = detail.get("comment") if isinstance(detail, dict) else detail if isinstance(detail, str) else None
            found.append(Signal(thread_id=str(r["thread_id"] or ""), ticket_id=str(r["ticket_id"]), kind=kind[0],
                                category=str(r["category"] or ""), detail=str(comment or "")))
    return found


def _signal_kind(decision: str, detail: Any) -> tuple[str] | None:
    """The gap signal a reviewer's decision gives (feedback rows of ``api.feedback``; older rows hold only the args)."""
    record = detail if isinstance(detail, dict) else {}
    comment = record.get("comment") if "type" in record else detail if isinstance(detail, str) else None
    if decision == "response":
        return ("redraft",)
    if decision == "ignore":
        return ("rejected",) if comment else None  # a rejection with a reason says what the draft lacked
    if decision == "edit":
        rewritten = record.get("edit_class") in ("light_edit", "heavy_edit") and record.get("sent") not in (None, record.get("draft"))
        return ("edited",) if rewritten or ("type" not in record and record.get("reply")) else None
    return None


def topics(store: Store, workspace: str, embed: Callable[[list[str]], np.ndarray], known_text: str = "",
           owners: dict[str, str] | None = None, impact: Callable[[dict[str, Any]], float] | None = None) -> list[Topic]:
    """The workspace's gap topics, best first (``known_text``: the knowledge base, whose sentences are not proposed)."""
    found = signals(store, workspace)
    by_ticket: dict[str, list[Signal]] = {}
    for s in found:
        by_ticket.setdefault(s.ticket_id, []).append(s)
    if not by_ticket:
        return []
    k = t.tickets.c
    rows = {str(r["ticket_id"]): r for r in store.query(select(k.ticket_id, k.thread_id, k.subject, k.body)
                                                         .where(k.workspace == workspace, k.ticket_id.in_(list(by_ticket))))}
    ids = [i for i in by_ticket if i in rows]
    if not ids:
        return []
    vectors = embed([f"{rows[i]['subject']}\n{rows[i]['body']}" for i in ids])
    groups = _cluster(vectors)
    sent = _sent_replies(store, [str(rows[i]["thread_id"] or "") for i in ids])
    out = []
    for members in groups:
        tickets = [ids[j] for j in members]
        sigs = [s for i in tickets for s in by_ticket[i]]
        category = Counter(s.category for s in sigs if s.category).most_common(1)
        cat = category[0][0] if category else ""
        info = [{"ticket_id": i, "thread_id": rows[i]["thread_id"], "subject": rows[i]["subject"],
                 "signals": sorted({s.kind for s in by_ticket[i]})} for i in tickets]
        weight = sum(impact(row) if impact else 1.0 for row in info)
        replies = [sent[str(rows[i]["thread_id"])] for i in tickets if sent.get(str(rows[i]["thread_id"]))]
        sentences = article_sentences(replies, known_text)
        topic = Topic(id=hashlib.sha1("|".join(sorted(tickets)).encode()).hexdigest()[:12],  # noqa: S324 - an id
                      title=_title([str(rows[i]["subject"]) for i in tickets]), tickets=info,
                      signals=Counter(s.kind for s in sigs), score=weight * (1 + len(tickets)) / 2, category=cat,
                      owner=(owners or {}).get(cat, "support-ops"), sentences=sentences)
        topic.article = article_markdown(topic)
        out.append(topic)
    return sorted(out, key=lambda x: (-x.score, x.id))


def _cluster(vectors: np.ndarray) -> list[list[int]]:
    """Greedy single-link groups of rows whose cosine similarity reaches ``TOPIC_SIMILARITY``."""
    n = len(vectors)
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    similarity = vectors @ vectors.T
    for i in range(n):
        for j in range(i + 1, n):
            if similarity[i, j] >= TOPIC_SIMILARITY:
                parent[root(j)] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _sent_replies(store: Store, threads: Sequence[str]) -> dict[str, str]:
    """Thread → the reply body the ledger says was sent (the reviewer's text after an edit)."""
    led = t.ledger.c
    out = {}
    for r in store.query(select(led.thread_id, led.args).where(led.action == "send_reply", led.thread_id.in_(list(threads)))):
        out[str(r["thread_id"])] = str(json.loads(str(r["args"])).get("body", ""))
    return out


def article_sentences(replies: Sequence[str], known_text: str = "") -> list[str]:
    """The sentences reviewers sent that an article can keep: no greeting, sign-off, question, citation or known fact."""
    known = {s.strip().lower() for s in _SENTENCE.split(known_text)}
    counts: Counter[str] = Counter()
    order: list[str] = []
    for reply in replies:
        seen = set()
        for line in reply.splitlines():
            for sentence in _SENTENCE.split(line.strip(" -*\t")):
                sentence = sentence.strip()
                if len(sentence.split()) < 5 or _SKIP.search(sentence) or sentence.lower() in known or sentence in seen:
                    continue
                seen.add(sentence)
                if sentence not in counts:
                    order.append(sentence)
                counts[sentence] += 1
    return sorted(order, key=lambda s: -counts[s])[:8]


def _title(subjects: Sequence[str]) -> str:
    words = Counter(w.lower() for s in subjects for w in _WORD.findall(s) if w.lower() not in _STOP)
    common = [w for w, n in words.most_common(4) if n > 1] or [w for w, _ in words.most_common(3)]
    return (" ".join(common) or "untitled topic").capitalize()


def slug(text: str) -> str:
    """A file and document id part from a title."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:50] or "topic"


def article_markdown(topic: Topic, title: str | None = None, body: str | None = None) -> str:
    """The proposal as a knowledge document: front matter and the sentences reviewers sent."""
    title = title or topic.title
    text = body if body is not None else "\n\n".join(topic.sentences) or "(no reply was sent on these tickets yet: write the answer)"
    categories = f"[{topic.category}]" if topic.category else "[]"
    return (f"---\nid: gap-{slug(title)}\ntitle: {json.dumps(title)}\nkind: help_article\nauthority: official\n"
            f"audience: customer\nowner: {topic.owner}\nupdated_at: {datetime.now(UTC).date().isoformat()}\n"
            f"supersedes: []\ncategories: {categories}\n---\n{text.strip()}\n")


def write_article(knowledge_dir: Path, topic: Topic, title: str | None = None, body: str | None = None) -> Path:
    """Write the accepted proposal into the workspace's knowledge folder; refuses to overwrite a document."""
    text = article_markdown(topic, title, body)
    doc_id = re.search(r"^id: (\S+)$", text, re.M)
    assert doc_id is not None
    path = knowledge_dir / f"{doc_id.group(1)}.md"
    if path.exists():
        raise FileExistsError(f"{path.name} already exists in the knowledge base: choose another title")
    path.write_text(text, encoding="utf-8")
    return path
