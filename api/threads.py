"""A ticket's thread: customer replies and agent notes added after the ticket was submitted.

A message is stored (``messages`` table) before anything else happens, so it is never lost. A customer
message then starts a new round on the whole thread:

* the run waits for review: the pending review is **superseded**. The service claims the interrupt with a
  ``superseded`` decision — the same claim a reviewer's decision takes, so when a reply and a decision race,
  exactly one wins — and resumes it; the review node records who/when/why and routes back to triage with
  the message. A reviewer's decision on the superseded interrupt gets 409 with a pointer to the new one.
* a reviewer's decision won the race, or the run had already finished: the message waits for that decision
  to complete, then becomes the next packet on the same ticket (a follow-up run on the same thread). Actions
  approved before are never undone; the new round's action ids continue after the old ones.

Rounds of one thread never run at once: a lock per thread (advisory lock on PostgreSQL, file lock on SQLite)
serialises them across workers. A message left ``received`` by a stopped process is processed by recovery.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any, cast

from langgraph.types import Command
from sqlalchemy import and_, select, update

from api import metrics
from api.intake import NotFound, NotPending
from api.service import SupportDesk
from graph.inbox import parse_decision
from graph.nodes.review import with_message
from graph.state import InputState, Message, Ticket
from tools import schema as t
from tools.store import insert_for, now

log = logging.getLogger("support_desk.threads")
m = t.messages.c

#: How long a message waits for a decision in flight, or for the thread's lock, before recovery takes it over.
WAIT_S = 60.0


def add_message(desk: SupportDesk, thread_id: str, body: str, author: str = "customer", internal: bool = False,
                created_by: str = "customer", run: bool = True) -> dict[str, Any]:
    """Store a message on ``thread_id``; a customer message then runs the next round. Returns the view + ``message``.

    ``run=False`` only stores it (status ``received``): the caller hands the round to the queue or a
    background task (:func:`process`); recovery would also find it.
    """
    desk.view(thread_id)  # NotFound for an unknown thread, before anything is stored
    # Ids sort in arrival order (microseconds first), so a thread reads in order even within one second.
    message: Message = {"id": f"m-{time.time_ns() // 1000:x}-{uuid.uuid4().hex[:8]}", "author": author,
                        "body": desk.scrub({"body": body})["body"], "at": now()}
    runs = author == "customer" and not internal
    with desk.store.transaction() as tx:
        tx.execute(insert_for(tx, t.messages).values(
            message_id=message["id"], thread_id=thread_id, author=author, internal=int(internal), body=message["body"],
            created_by=created_by, status="received" if runs else "note", at=message["at"]))
        tx.execute(t.audit.insert().values(thread_id=thread_id, event="message.received", actor=created_by, at=now(),
                                           detail=json.dumps({"message_id": message["id"], "author": author,
                                                              "internal": internal})))
    view = process(desk, thread_id, message["id"]) if runs and run else desk.view(thread_id)
    return {**view, "message": {**message, "internal": internal}}


def thread_messages(desk: SupportDesk, thread_id: str) -> list[dict[str, Any]]:
    """Every message added to the thread after submission (replies and notes), oldest first."""
    rows = desk.store.query(select(m.message_id, m.author, m.internal, m.body, m.created_by, m.status, m.at)
                            .where(m.thread_id == thread_id).order_by(m.at, m.message_id))
    return [{**r, "internal": bool(r["internal"])} for r in rows]


def process(desk: SupportDesk, thread_id: str, message_id: str) -> dict[str, Any]:
    """Run the round a stored customer message starts (at most one round of a thread at a time)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        with desk.store.leader(_lock_name(thread_id)) as mine:
            if mine:
                result = _process_locked(desk, thread_id, message_id, deadline)
                if result is not None:
                    return result
        if time.monotonic() > deadline:
            log.warning("message %s on %s waits for recovery (thread busy)", message_id, thread_id)
            return desk.view(thread_id)
        time.sleep(0.2)


def _process_locked(desk: SupportDesk, thread_id: str, message_id: str, deadline: float) -> dict[str, Any] | None:
    """None: not now (a decision in flight); try again."""
    row = desk.store.query(select(m.message_id, m.author, m.body, m.at, m.status, m.created_by).where(m.message_id == message_id))
    if not row:
        raise NotFound(f"unknown message '{message_id}'")
    if row[0]["status"] == "processed":
        return desk.view(thread_id)
    message: Message = {"id": message_id, "author": str(row[0]["author"]), "body": str(row[0]["body"]), "at": str(row[0]["at"])}
    config, context = desk.config(thread_id), desk.context_of(thread_id)
    snapshot = desk.graph.get_state(config)
    if snapshot.interrupts:
        target = snapshot.interrupts[0].id
        decision = parse_decision({"type": "superseded", "args": {"message": message},
                                   "reviewer": str(row[0]["created_by"] or "customer")}).model_dump()
        try:
            desk._claim(thread_id, target, decision, [])
        except NotPending:  # a reviewer decided first: the message becomes the next round once that finishes
            _wait_for_decision(desk, thread_id, target, deadline)
            return None
        desk.run_graph(Command(resume={target: decision}), thread_id, context, "sync", "superseded")
        with desk.store.transaction() as tx:
            desk._complete(tx, thread_id, target)
            _processed(tx, message_id)
            tx.execute(t.audit.insert().values(thread_id=thread_id, event="review.superseded", actor=message["author"], at=now(),
                                               detail=json.dumps({"interrupt_id": target, "message_id": message_id,
                                                                  "why": "a newer customer message"})))
        metrics.decision("superseded")
        return desk._record(thread_id)
    if snapshot.next:  # a decision's resume or an apply is still running
        return None
    follow_up: InputState = {"ticket": with_message(cast(Ticket, snapshot.values["ticket"]), message), "messages": [message]}
    desk.run_graph(follow_up, thread_id, context, "sync", "follow-up")
    with desk.store.transaction() as tx:
        _processed(tx, message_id)
        tx.execute(t.audit.insert().values(thread_id=thread_id, event="run.followup", actor=message["author"], at=now(),
                                           detail=json.dumps({"message_id": message_id})))
    return desk._record(thread_id)


def _processed(tx: Any, message_id: str) -> None:
    tx.execute(update(t.messages).where(m.message_id == message_id).values(status="processed", processed_at=now()))


def _wait_for_decision(desk: SupportDesk, thread_id: str, interrupt_id: str, deadline: float) -> None:
    d = t.decisions.c
    while time.monotonic() < deadline:
        rows = desk.store.query(select(d.completed_at).where(and_(d.thread_id == thread_id, d.interrupt_id == interrupt_id)))
        if rows and rows[0]["completed_at"]:
            return
        time.sleep(0.2)


def _lock_name(thread_id: str) -> str:
    return "thread-" + hashlib.sha256(thread_id.encode("utf-8")).hexdigest()[:24]


def unprocessed(desk: SupportDesk, before: str) -> list[tuple[str, str]]:
    """(thread, message) of customer messages stored before ``before`` whose round never ran (a process stopped)."""
    rows = desk.store.query(select(m.thread_id, m.message_id).where(m.status == "received", m.at < before).order_by(m.at))
    return [(str(r["thread_id"]), str(r["message_id"])) for r in rows]


def recover_messages(desk: SupportDesk, before: str, run: Callable[[str, str], Any] | None = None) -> list[str]:
    """Run the rounds of customer messages a stopped process stored but never processed; the threads done.

    ``run(thread_id, message_id)`` replaces running the round here (the queue path enqueues it instead).
    """
    run_round = run or (lambda th, mid: process(desk, th, mid))
    done = []
    for thread_id, message_id in unprocessed(desk, before):
        try:
            run_round(thread_id, message_id)
        except Exception:  # one poisoned thread must not stop the others (or start-up)
            log.exception("message %s on %s could not be processed", message_id, thread_id)
            continue
        done.append(thread_id)
    return done
