"""``support-agent``: process tickets, review pending approvals, inspect runs and the knowledge base.

Bad input (missing fields, invalid JSON, unknown thread) prints one clear line on stderr
and exits with code 2; nothing already recorded is lost.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

from cli.common import EXIT_UNAVAILABLE, EXIT_USAGE, CliError, build_workspace, engine_of


def _desk(*preload: str) -> Any:
    """The desk; ``preload`` lists the workspaces whose engines are loaded up front (none for reads)."""
    from api.service import SupportDesk

    return SupportDesk(preload=preload)


def _reader(workspace: str | None = None) -> Any:
    """The read-only view of the runs (no graph, no engine); checks ``workspace`` when given."""
    from cli.runs import RunReader

    reader = RunReader()
    if workspace is not None:
        reader.check_workspace(workspace)
    return reader


def _read_text(source: str) -> str:
    try:
        return sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {source}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise CliError(f"cannot read {source}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def _read_json(source: str) -> Any:
    text = _read_text(source)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{source}:{exc.lineno}: invalid JSON: {exc.msg}") from exc


def _ticket_error(exc: Exception, where: str) -> CliError:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'ticket'}: {e['msg']}" for e in exc.errors())
        return CliError(f"{where}: invalid ticket: {reasons}")
    return CliError(f"{where}: {exc}")


def _print_view(view: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(view, indent=2, default=str))
        return
    from cli.packet_view import print_view
    from cli.render import make_console

    print_view(make_console(), view)


def cmd_process(args: argparse.Namespace) -> None:
    """Process one JSON ticket."""
    ticket = _read_json(args.file)
    from api.service import DeskError

    desk = _desk()
    try:
        view = desk.submit(ticket, workspace=args.workspace)
    except DeskError as exc:
        raise CliError(str(exc)) from exc
    except ValueError as exc:
        raise _ticket_error(exc, args.file) from exc
    _print_view(view, args.json)


def _enqueue(desk: Any, raw: dict[str, Any], workspace: str | None) -> dict[str, Any]:
    """Register one ticket as the API would and defer its run to the queue's workers."""
    from api import queue, registry
    from api.auth import Principal
    from api.schemas import TicketIn
    from tools.workspaces import DEFAULT

    parsed = TicketIn.model_validate(raw)
    data = desk.scrub(parsed.model_dump(exclude_none=True))
    data["id"] = parsed.id or f"T-{uuid.uuid4().hex[:12]}"
    space = workspace or DEFAULT
    if not desk.workspaces.exists(space):
        raise CliError(f"workspace '{space}' is not set up: support-agent workspace create {space} --data DIR")
    who = Principal(key_id="cli", role="submitter", tenant=space, name=os.environ.get("USER", "cli"))
    try:
        reg = registry.register(desk.store, who, data, None)
    except registry.TicketConflict as exc:
        raise ValueError(str(exc)) from exc
    if reg.created:
        queue.enqueue_ticket(desk, reg.thread_id, space, data)
    return {"thread_id": reg.thread_id, "ticket_id": reg.ticket_id, "status": "queued" if reg.created else "known"}


def cmd_batch(args: argparse.Namespace) -> None:
    """Process a JSONL file of tickets: progress on stderr, a summary (or one JSON line per ticket) on stdout."""
    lines = [(n, line) for n, line in enumerate(_read_text(args.file).splitlines(), 1) if line.strip()]
    from pydantic import ValidationError
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from api.service import DeskError
    from cli.render import make_console

    out, err = make_console(), make_console(stderr=True)
    desk, results, errors = _desk(), [], []
    if args.enqueue:
        from api import queue

        if not queue.enabled(desk.settings):
            raise CliError("--enqueue needs the PostgreSQL queue: SUPPORT_QUEUE=procrastinate and a postgresql SUPPORT_DATABASE_URL")
        queue.ensure_schema(desk.settings, desk.store)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    # Packets or JSON lines printed while a bar is drawn on the same terminal would garble it: they are the progress then.
    live_output = (args.json or args.verbose) and out.is_terminal and err.is_terminal
    with Progress(*columns, console=err, transient=err.is_terminal, disable=live_output, redirect_stdout=False,
                  redirect_stderr=False) as progress:
        task = progress.add_task("processing tickets", total=len(lines))
        for number, line in lines:
            try:
                if args.enqueue:
                    results.append(_enqueue(desk, json.loads(line), args.workspace))
                    if args.json:
                        print(json.dumps(results[-1]), flush=True)
                    progress.advance(task)
                    continue
                view = desk.submit(json.loads(line), workspace=args.workspace)
            except DeskError as exc:
                raise CliError(str(exc)) from exc
            except json.JSONDecodeError as exc:
                errors.append(f"{args.file}:{number}: invalid JSON: {exc.msg}")
            except (ValidationError, ValueError) as exc:
                errors.append(str(_ticket_error(exc, f"{args.file}:{number}")))
            else:
                results.append(view)
                if args.json:  # one line per ticket, as soon as it is done
                    print(json.dumps(view, default=str), flush=True)
                elif args.verbose:
                    _print_view(view, False)
                    out.rule()
            progress.advance(task)
    for error in errors:
        print(error, file=sys.stderr)
    if args.enqueue and not args.json:
        fresh = sum(1 for r in results if r["status"] == "queued")
        out.print(f"{fresh} ticket(s) queued for the workers, {len(results) - fresh} already known, {len(errors)} skipped"
                  " — run `support-agent worker`; `support-agent reviews` lists their approvals.")
    if args.enqueue:
        return
    if not args.json:
        from cli.tables import batch_summary

        title, counts, categories = batch_summary(results, len(errors), args.file)
        out.print(title)
        out.print(counts)
        if results:
            out.print()
            out.print(categories)
        if errors:
            out.print(f"{len(errors)} line(s) skipped: see stderr.")
    if errors:
        raise SystemExit(EXIT_USAGE)


def cmd_reviews(args: argparse.Namespace) -> None:
    """List pending approvals, soonest SLA deadline first, with every risk flag (read-only: no engine is loaded)."""
    reader = _reader(args.workspace)
    rows = reader.pending(args.workspace)
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return
    from cli.render import make_console
    from cli.tables import by_deadline, reviews_table

    console = make_console()
    if not rows:
        console.print(f"No pending approvals in workspace '{args.workspace}'.")
        return
    console.print(f"{len(rows)} pending approval(s), soonest SLA deadline first (time left from when the ticket arrived):")
    console.print(reviews_table(rows))
    ordered = by_deadline(rows)
    ready = next((r for r in ordered[:10] if reader.acceptable(str(r["thread_id"]))), None)
    if ready is not None:
        console.print(f"\nResume one with: support-agent review {ready['thread_id']} --accept   "
                      "(or --edit FILE | --respond TEXT | --reject)")
    else:
        console.print(f"\nThe first reviews propose incomplete actions: see `support-agent show {ordered[0]['thread_id']}`, "
                      "then --edit FILE to supply what is missing (or drop the action)")


def _decision(args: argparse.Namespace) -> dict[str, Any]:
    """The resume value of ``review``'s flags; bad flags are a CliError before anything is loaded."""
    if args.accept:
        return {"type": "accept"}
    if args.reject:
        return {"type": "ignore", "args": args.reason} if args.reason and args.reason.strip() else {"type": "ignore"}
    if args.respond is not None:
        if not args.respond.strip():
            raise CliError("--respond needs a comment telling the agent what to change in the draft (it was empty)")
        return {"type": "response", "args": args.respond}
    edited = _read_json(args.edit)
    if isinstance(edited, dict):
        return {"type": "edit", "args": edited}
    if isinstance(edited, str) and edited.strip():
        return {"type": "edit", "args": {"reply": edited}}
    raise CliError(f'{args.edit}: expected {{"reply": "...", "actions": [...]}} or a non-empty JSON string')


def cmd_review(args: argparse.Namespace) -> None:
    """Decide a pending approval."""
    value = {**_decision(args), "reviewer": args.reviewer}
    if not str(args.reviewer).strip():
        raise CliError("--reviewer must not be empty")
    from api.service import DeskError, NotPending

    desk = _desk()
    try:
        view = desk.decide(desk.thread_of(args.thread, args.workspace), value)
    except NotPending as exc:
        who = exc.decided
        detail = f" (decided '{who['decision']}' by {who['reviewer']} at {who['decided_at']})" if who else ""
        raise CliError(f"{exc}{detail}; nothing changed") from exc
    except DeskError as exc:
        raise CliError(str(exc)) from exc
    _print_view(view, args.json)


def cmd_reply(args: argparse.Namespace) -> None:
    """Add a customer message (or an internal note) to a ticket; a customer message runs the next round."""
    try:
        text = sys.stdin.read() if args.message == "-" else Path(args.message).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {args.message}: {getattr(exc, 'strerror', None) or exc}") from exc
    if not text.strip():
        raise CliError(f"{args.message}: the message is empty")
    if "\x00" in text or len(text) > 20_000:
        raise CliError(f"{args.message}: a message is at most 20,000 characters without NUL")
    from api.service import DeskError
    from api.threads import add_message

    desk = _desk()
    try:
        view = add_message(desk, desk.thread_of(args.thread, args.workspace), text.strip(),
                           author="agent" if args.note else "customer", internal=args.note,
                           created_by=args.author or ("agent" if args.note else "customer"))
    except DeskError as exc:
        raise CliError(str(exc)) from exc
    _print_view(view, args.json)


def cmd_show(args: argparse.Namespace) -> None:
    """Show a run: packet (with the reply actually sent), status, decisions and ledger (read-only)."""
    reader = _reader(args.workspace)
    _print_view(reader.view(reader.thread_of(args.thread, args.workspace)), args.json)


def cmd_index(args: argparse.Namespace) -> None:
    """Rebuild the knowledge index and the classifier when the data changed."""
    engine = build_workspace(args.workspace)
    data = engine.data
    print(f"Workspace {args.workspace}: {data.root} — {len(data.documents)} documents, {len(data.customers)} customers, "
          f"{len(data.tickets)} labeled tickets")
    for part, rebuilt in engine.rebuilt.items():
        print(f"  {part}: {'rebuilt' if rebuilt else 'up to date (content hash unchanged)'}")
    for note in engine.corpus.notes:
        print(f"  note: {note}")
    for problem in data.problems:
        print(f"skipped {problem}", file=sys.stderr)



def cmd_kb_search(args: argparse.Namespace) -> None:
    """Ranked sources for a query, with scores and authority."""
    engine = engine_of(args.workspace)
    hits, conflicts = engine.kb.search(args.query, engine.embed(args.query), k=args.k)
    if args.json:
        print(json.dumps({"hits": [h.as_source() for h in hits], "conflicts": conflicts}, indent=2))
        return
    for rank, h in enumerate(hits, 1):
        updated = h.doc.updated_at if h.doc.date_source == "document" else "unknown"
        section = f" › {h.section}" if h.section else ""
        print(f"{rank}. {h.doc.id:<42} score {h.score:.3f} (relevance {h.relevance:.3f}, {h.doc.authority}) "
              f"{h.doc.audience}, updated {updated}")
        print(f"   {h.doc.title}{section}")
        print(f"   {h.passage[:160]}")
    for c in conflicts:
        print(f"⚠ conflict: {c['reason']}")


def cmd_timers(args: argparse.Namespace) -> None:
    """Fire the due SLA warnings, breaches, approval escalations and expiries once (what the API does every minute)."""
    from api.timers import tick

    fired = tick(_desk())
    if args.json:
        print(json.dumps(fired, indent=2))
        return
    for kind, threads in fired.items():
        print(f"{kind.replace('_', ' ')}: {', '.join(threads) if threads else 'none'}")


def cmd_gaps(args: argparse.Namespace) -> None:
    """List knowledge-gap proposals, or decide one (``gaps review ID --accept|--dismiss``)."""
    from api import gaps
    from api.service import DeskError

    desk = _desk()
    if getattr(args, "gaps_command", None) != "review":
        found = gaps.proposals(desk, args.workspace, include_decided=args.all)
        if args.json:
            print(json.dumps(found, indent=2, default=str))
            return
        if not found:
            print("No open knowledge-gap proposals.")
        for p in found:
            signals = ", ".join(f"{k} {v}" for k, v in p["signals"].items())
            print(f"{p['id']}  score {p['score']:.1f}  {p['title']}  [{p['category'] or '—'} → {p['owner']}]  {signals}  "
                  f"{len(p['tickets'])} ticket(s): {', '.join(x['ticket_id'] for x in p['tickets'])}  ({p['status']})")
        return
    body = None
    if args.edit:
        try:
            body = Path(args.edit).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read {args.edit}: {getattr(exc, 'strerror', None) or exc}") from exc
    try:
        done = gaps.decide(desk, args.workspace, args.id, "accept" if args.accept else "dismiss", args.reviewer,
                           args.title, body)
    except DeskError as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(done, indent=2))
    else:
        print(f"{done['status']}: {done['title']}" + (f" → knowledge document {done['document']}" if done.get("document") else ""))


def cmd_retrain(args: argparse.Namespace) -> None:
    """Retrain triage on reviewer corrections; switch to the new model only if it is not worse."""
    from api.retraining import read_labelled, retrain_workspace

    try:
        extra = read_labelled(Path(args.corrections)) if args.corrections else []
        result = retrain_workspace(_desk(), args.workspace, extra, Path(args.eval) if args.eval else None, args.dry_run)
    except (OSError, ValueError, json.JSONDecodeError) as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(result.as_dict(), indent=2))
        return

    def pct(value: float | None, n: int) -> str:
        return "—" if value is None else f"{value:.3f} (n={n})"

    print(f"corrections {result.corrections} · trained on {result.trained_on} tickets")
    before, after = result.before, result.after
    print(f"eval set        {pct(before.eval_accuracy, before.eval_n)} → {pct(after.eval_accuracy, after.eval_n)}")
    print(f"held-out corr.  {pct(result.before.held_out_accuracy, result.before.held_out_n)} → "
          f"{pct(result.after.held_out_accuracy, result.after.held_out_n)}")
    print(f"{result.reason} (model in use: {result.candidate_version if result.switched else result.current_version})")


def cmd_worker(args: argparse.Namespace) -> None:
    """Run a queue worker (PostgreSQL, SUPPORT_QUEUE=procrastinate); --once drains what is queued and exits."""
    from api import queue
    from tools.settings import get_settings

    settings = get_settings()
    if not queue.enabled(settings):
        raise CliError("no job queue: set SUPPORT_DATABASE_URL=postgresql://… and SUPPORT_QUEUE=procrastinate")
    if args.concurrency < 1:
        raise CliError("--concurrency must be at least 1")
    import logging

    # One line per job on stderr (ticket, lane, status, time); the queue library's own chatter stays at warnings.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("support_desk").setLevel(logging.INFO)
    queue.ensure_schema(settings, queue.worker_desk().store)  # the desk (and engine) its jobs run with
    queue.work(settings, args.concurrency, args.once)


def cmd_retention(args: argparse.Namespace) -> None:
    """Archive finished runs older than N days and drop their checkpoints (packets, decisions, ledger kept)."""
    from api.retention import prune

    if args.older_than < 0:
        raise CliError("--older-than must be 0 or more days")
    report = prune(_desk(), args.older_than)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"Archived {report['pruned']} finished runs (last updated before {report['cutoff']}): checkpoints "
          f"{report['bytes_before']:,} bytes → archive {report['bytes_after']:,} bytes "
          f"({report['bytes_per_ticket_before']:,} → {report['bytes_per_ticket_after']:,} bytes per ticket).")


def cmd_report(args: argparse.Namespace) -> None:
    """Outcome metrics per ISO week and category, reviewer feedback and knowledge gaps (read-only); optional PNG chart."""
    from api.reports import learning_report

    if args.since is not None and args.since <= 0:
        raise CliError("--since must be a positive number of days")
    if args.reopen_days < 0:
        raise CliError("--reopen-days must be 0 or more")
    if args.chart is not None and args.chart.suffix.lower() != ".png":
        raise CliError(f"--chart writes a PNG file: give a name ending in .png (got '{args.chart}')")
    reader = _reader(args.workspace)

    def packet_of(thread_id: str) -> dict[str, Any]:
        try:
            return dict(reader.view(thread_id).get("packet") or {})
        except CliError:  # a run without a checkpoint or an archive: counted, without its packet
            return {}

    report = learning_report(reader.store, args.workspace, packet_of, args.since, args.reopen_days)
    if args.chart is not None:
        from cli.report_view import write_chart

        write_chart(report, args.chart)
        print(f"Chart written to {args.chart}", file=sys.stderr)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return
    from cli.render import make_console
    from cli.report_view import print_report
    from cli.tables import gaps_table

    console = make_console()
    print_report(console, report)
    gaps = gaps_table(report)
    console.print("\nKnowledge gaps (tickets without a confident source):")
    console.print(gaps if gaps.row_count else "  none")


def cmd_keys_create(args: argparse.Namespace) -> None:
    """Create an API key (printed once; only its hash is stored)."""
    from api.auth import create_key

    try:
        key = create_key(args.role, args.key_workspace or args.workspace, args.name)
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    print(key)
    print(f"Created a {args.role} key for workspace '{args.key_workspace or args.workspace}'. It is shown only once.",
          file=sys.stderr)


def cmd_eval_triage(args: argparse.Namespace) -> None:
    """Train the offline classifier on any labeled export and report accuracy, macro-F1 and speed."""
    from evals.triage_bench import run_triage_benchmark

    try:
        result = run_triage_benchmark(args.train, args.test, progress=lambda m: print(f"... {m}", file=sys.stderr, flush=True))
    except (OSError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"train {result['train_size']} · test {result['test_size']} · {result['classes']} classes")
    print(f"accuracy {result['accuracy']:.4f} · macro-F1 {result['macro_f1']:.4f} · "
          f"{result['ms_per_ticket']:.2f} ms/ticket (embedding + classify) · trained in {result['train_seconds']:.1f} s")


def _command(sub: Any, name: str, func: Any, help_text: str, *positionals: str, json_output: bool = True) -> argparse.ArgumentParser:
    """Add a subcommand with its positional arguments, ``--workspace``, for most ``--json``, and its examples."""
    from cli.help import POSITIONALS, epilog

    p: argparse.ArgumentParser = sub.add_parser(name, help=help_text, description=help_text[:1].upper() + help_text[1:] + ".")
    p.epilog = epilog(p.prog.removeprefix("support-agent").strip())
    # SUPPRESS: without the flag here, the value given before the subcommand (or its default) stays.
    p.add_argument("--workspace", default=argparse.SUPPRESS, metavar="W",
                   help="workspace (company) to use; default: $SUPPORT_WORKSPACE or 'default' (SUPPORT_DATA_DIR)")
    for positional in positionals:
        p.add_argument(positional, help=POSITIONALS.get(positional))
    if json_output:
        p.add_argument("--json", action="store_true", help="print JSON (for scripts) instead of text")
    p.set_defaults(func=func)
    return p


class _Version(argparse.Action):
    """``--version``: the installed package's version (read only when asked)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("support-desk-agent")
        except PackageNotFoundError:  # run from a checkout that was never installed
            number = "unknown (not installed)"
        print(f"{parser.prog} {number}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``support-agent``."""
    from cli.help import Parser
    from cli.workspace_commands import add_commands, add_eval_retrieval

    parser = Parser(prog="support-agent", description="Supervised customer-support agent (offline): process tickets, review the pending\n"
                    "approvals, inspect runs and the knowledge base.",
                    epilog="examples:\n  support-agent process ticket.json\n  support-agent reviews\n  support-agent show S-001\n"
                           "  support-agent review S-001 --accept\n\nEach command has its own --help.")
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    parser.add_argument("--workspace", default=os.environ.get("SUPPORT_WORKSPACE", "default"), metavar="W",
                        help="workspace (company) to use; default: $SUPPORT_WORKSPACE or 'default' (SUPPORT_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _command(sub, "process", cmd_process, "process one JSON ticket and print its packet", "file")
    p = _command(sub, "batch", cmd_batch, "process a JSONL file of tickets; progress on stderr, a summary table at the end", "file")
    p.add_argument("--verbose", "-v", action="store_true", help="also print every packet")
    p.add_argument("--enqueue", action="store_true", help="PostgreSQL queue: register the tickets and leave their runs to "
                                                          "`support-agent worker` processes")
    _command(sub, "reviews", cmd_reviews, "list pending approvals: time left to the SLA and every risk flag")
    p = _command(sub, "review", cmd_review, "decide a pending approval", "thread")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--accept", action="store_true", help="approve the packet's gated actions as proposed")
    group.add_argument("--edit", metavar="FILE", help='JSON file: {"reply": "...", "actions": ["a4-send_reply"], "overrides": '
                                                      '{"category": "billing"}} or a string (the new reply); actions left out '
                                                      "are dropped")
    group.add_argument("--respond", metavar="TEXT", help="ask for a new draft; TEXT tells the agent what to change")
    group.add_argument("--reject", action="store_true", help="reject: no gated action is applied")
    p.add_argument("--reason", metavar="TEXT", help="with --reject: why (recorded with the decision and in the feedback)")
    p.add_argument("--reviewer", default=os.environ.get("USER", "reviewer"), help="who decides (default: $USER)")
    p = _command(sub, "reply", cmd_reply, "add the customer's reply (or an internal note) to a ticket", "thread", "message")
    p.add_argument("--note", action="store_true", help="an internal note by the team: recorded, nothing re-runs")
    p.add_argument("--author", default=None, help="who wrote it, for the audit (default: customer, or agent with --note)")
    _command(sub, "show", cmd_show, "show a run: packet, reply actually sent, status, decisions and ledger", "thread")
    p = _command(sub, "gaps", cmd_gaps, "knowledge-gap proposals: topics the knowledge base did not answer, and a draft article each")
    p.add_argument("--all", action="store_true", help="also list accepted and dismissed proposals")
    gap_sub = p.add_subparsers(dest="gaps_command", metavar="[review]")
    r = _command(gap_sub, "review", cmd_gaps, "accept (writes the article into the knowledge base) or dismiss a proposal", "id")
    decision = r.add_mutually_exclusive_group(required=True)
    decision.add_argument("--accept", action="store_true", help="write the article and index it")
    decision.add_argument("--dismiss", action="store_true", help="hide the proposal; nothing is written")
    r.add_argument("--title", default=None, help="the article's title (default: the proposal's)")
    r.add_argument("--edit", metavar="FILE", default=None, help="Markdown file with your text of the article")
    r.add_argument("--reviewer", default=os.environ.get("USER", "support-ops"), help="who decides (default: $USER)")
    p = _command(sub, "retrain", cmd_retrain, "retrain triage on reviewer corrections; switched in only if not worse")
    p.add_argument("--corrections", metavar="FILE", help='more corrections, JSONL: {"subject", "body", "category"} per line')
    p.add_argument("--eval", metavar="FILE", help="eval set (JSONL); default: the workspace's eval.jsonl, or the sample's")
    p.add_argument("--dry-run", action="store_true", help="measure only; never switch")
    from cli.traces import cmd_trace

    _command(sub, "trace", cmd_trace, "node timeline of a thread's graph runs, with durations (read-only)", "thread")
    p = _command(sub, "worker", cmd_worker, "run a queue worker (PostgreSQL + SUPPORT_QUEUE=procrastinate)", json_output=False)
    p.add_argument("--concurrency", type=int, default=1, help="jobs at once in this process (default 1: tickets are CPU-bound)")
    p.add_argument("--once", action="store_true", help="drain what is queued (after retrying stalled jobs) and exit")
    _command(sub, "timers", cmd_timers, "fire the due SLA warnings and breaches, approval escalations and expiries once")
    p = _command(sub, "report", cmd_report, "outcome metrics per week and category: first response, acceptance "
                 "(unchanged/light/heavy/rejected), reopens, gaps; --chart FILE.png")
    p.add_argument("--since", type=float, metavar="DAYS", help="only tickets that arrived in the last DAYS days")
    p.add_argument("--chart", type=Path, metavar="FILE.png", help="also write a PNG chart of the weekly trend")
    p.add_argument("--reopen-days", type=float, default=7.0, metavar="N",
                   help="a customer message within N days after a sent reply is a reopen (default 7)")
    p = _command(sub, "retention", cmd_retention, "drop checkpoints of finished runs (packets, decisions, audit, ledger kept)")
    p.add_argument("--older-than", type=float, required=True, metavar="DAYS", help="runs finished more than DAYS ago")
    keys = sub.add_parser("keys", help="API keys of the HTTP API", description="API keys of the HTTP API.")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")
    p = _command(keys_sub, "create", cmd_keys_create, "create an API key (printed once; only its hash is stored)", json_output=False)
    p.add_argument("--role", required=True, choices=["submitter", "reviewer", "admin"], help="what the key may do")
    p.add_argument("--tenant", dest="key_workspace", metavar="W", help="old name of --workspace")
    p.add_argument("--name", default="", help="a label to recognise the key by in `keys list`")
    from cli.keys import add_key_commands

    add_key_commands(keys_sub, _command)
    from cli.webhooks import add_webhook_commands

    add_webhook_commands(sub, _command)
    from cli.db_commands import add_db_commands

    add_db_commands(sub, _command)
    evals = sub.add_parser("eval", help="evaluations", description="Evaluations on your own exports.")
    evals_sub = evals.add_subparsers(dest="eval_command", required=True, metavar="COMMAND")
    p = _command(evals_sub, "triage", cmd_eval_triage, "train and test the triage classifier on CSV exports (text,label)")
    p.add_argument("--train", type=Path, required=True, help="labelled CSV (text,label) to train on")
    p.add_argument("--test", type=Path, required=True, help="labelled CSV (text,label) to test on")
    add_eval_retrieval(evals_sub, _command)
    from cli.eval_requests import add_eval_requests

    add_eval_requests(evals_sub, _command)
    add_commands(sub, _command)
    _command(sub, "index", cmd_index, "rebuild the index and the classifier (only what changed), with progress", json_output=False)
    kb = sub.add_parser("kb", help="knowledge base tools", description="Knowledge base tools.")
    p = _command(kb.add_subparsers(dest="kb_command", required=True, metavar="COMMAND"), "search", cmd_kb_search,
                 "ranked sources for a query, with relevance, authority and score", "query")
    p.add_argument("-k", type=_positive, default=5, help="how many sources (default 5)")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more (got {value})")
    return value


def _user_errors() -> tuple[type[BaseException], ...]:
    """Errors printed as one line: the CLI's, plus the data and workspace errors of the modules the command loaded."""
    kinds: list[type[BaseException]] = [CliError]
    for module, name in (("tools.data", "DataError"), ("tools.workspaces", "UnknownWorkspace"), ("api.intake", "DeskError")):
        if module in sys.modules:  # a module that was never imported cannot have raised its error
            kinds.append(getattr(sys.modules[module], name))
    return tuple(kinds)


def _database_down(exc: BaseException) -> str | None:
    """One line for a database that does not answer (refused, timed out, pool exhausted); None for anything else."""
    from tools.store import database_errors

    if not isinstance(exc, database_errors()):
        return None
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return f"the database does not answer ({first}); start it or check SUPPORT_DATABASE_URL"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except KeyboardInterrupt:
        print("support-agent: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if (down := _database_down(exc)) is not None:
            print(f"support-agent: {down}", file=sys.stderr)
            return EXIT_UNAVAILABLE
        if not isinstance(exc, _user_errors()):
            raise
        print(f"support-agent: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
