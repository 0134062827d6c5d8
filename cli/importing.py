"""The body of ``support-agent import kb PATH``: copy a help-centre export into a workspace and report.

:func:`import_kb` copies a file or a folder tree of knowledge files into ``<data dir>/knowledge/``
(relative paths kept, identical files left alone), loads the workspace with the forgiving loader
and returns an :class:`ImportReport`; :func:`format_report` renders it as a short plain-text
summary. Building the index is the caller's job.
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tools.data import DataError, load_company
from tools.formats import SUFFIXES
from tools.playbook import GENERIC_PLAYBOOK

SHOWN_PROBLEMS = 20


@dataclass
class ImportReport:
    """What an import brought into a workspace."""

    source: Path
    data_dir: Path
    imported: int  # usable documents from the imported files
    skipped: list[str]  # "file:line: reason": the imported files' problems first, then the workspace's others
    by_kind: dict[str, int]  # imported documents per kind
    by_audience: dict[str, int]  # imported documents per audience
    table: dict[str, dict[str, int]]  # kind -> audience -> imported documents
    copied: int  # files copied (new or changed)
    unchanged: int  # files already in the workspace with the same content
    undated: int  # imported documents without a stated date (the file date is used, shown as unknown)
    total_documents: int  # usable documents in the whole workspace
    playbook_source: str  # "workspace" | "generic"
    generic_playbook: Path = GENERIC_PLAYBOOK  # the file to copy to <data dir>/playbook.yaml and edit
    customers: int = 0
    labelled_tickets: int = 0
    ignored: list[str] = field(default_factory=list)  # source files of unsupported types (not copied)

    @property
    def zero_shot(self) -> bool:
        """True when the workspace has no labelled tickets: triage classifies from category descriptions."""
        return self.labelled_tickets == 0


def _copy_tree(source: Path, knowledge: Path) -> tuple[list[Path], int, list[str]]:
    """Copy supported files; return (workspace paths of the source's files, files copied, ignored files)."""
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    targets, copied, ignored = [], 0, []
    for path in files:
        rel = Path(path.name) if source.is_file() else path.relative_to(source)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() not in SUFFIXES:
            ignored.append(str(path))
            continue
        target = knowledge / rel
        targets.append(target)
        if target.exists() and (target.resolve() == path.resolve() or target.read_bytes() == path.read_bytes()):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)  # keeps the mtime: it dates documents that state no date
        copied += 1
    return targets, copied, ignored


def import_kb(source: Path, data_dir: Path) -> ImportReport:
    """Copy ``source`` (a file or folder) into ``data_dir/knowledge/`` and load the workspace.

    Raises:
        DataError: When ``source`` does not exist or none of its files holds a usable document
            (``problems`` says why), or when the workspace's playbook.yaml is invalid.
    """
    if not source.exists():
        raise DataError([f"{source}:0: no such file or folder"])
    knowledge = data_dir / "knowledge"
    knowledge.mkdir(parents=True, exist_ok=True)
    targets, copied, ignored = _copy_tree(source, knowledge)
    mine = {str(t) for t in targets}
    data = load_company(data_dir)
    docs = [d for d in data.documents.values() if d.path in mine]
    own = [p for p in data.problems if any(p.startswith(f"{t}:") for t in mine)]
    if not docs:
        reasons = own or [f"{source}:0: no knowledge file ({', '.join(sorted(SUFFIXES))}) found"]
        raise DataError(reasons + [f"{source}:0: nothing usable was imported"])
    table: dict[str, Counter[str]] = {}
    for doc in docs:
        table.setdefault(doc.kind, Counter())[doc.audience] += 1
    return ImportReport(
        source=source, data_dir=data_dir, imported=len(docs),
        skipped=own + [p for p in data.problems if p not in own],
        by_kind=dict(Counter(d.kind for d in docs)), by_audience=dict(Counter(d.audience for d in docs)),
        table={kind: dict(counts) for kind, counts in sorted(table.items())},
        copied=copied, unchanged=len(targets) - copied, undated=sum(d.date_source == "file" for d in docs),
        total_documents=len(data.documents), playbook_source=data.playbook_source,
        customers=len(data.customers), labelled_tickets=len(data.tickets), ignored=ignored,
    )


def format_report(report: ImportReport, show_skipped: bool = True) -> str:
    """A short plain-text summary: counts, a kind x audience table, skipped files, what the workspace lacks.

    Args:
        report: What :func:`import_kb` returned.
        show_skipped: List the first skipped files and lines (off when the caller prints them itself).
    """
    lines = [f"Imported {report.imported} documents from {report.source} into {report.data_dir / 'knowledge'} "
             f"({report.copied} files copied, {report.unchanged} unchanged; {report.total_documents} documents in the workspace)."]
    audiences = sorted(report.by_audience)
    header = ["kind", *audiences, "total"]
    rows = [[kind, *(str(counts.get(a, 0)) for a in audiences), str(sum(counts.values()))]
            for kind, counts in report.table.items()]
    rows.append(["total", *(str(report.by_audience[a]) for a in audiences), str(report.imported)])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        lines.append("  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))))
    if report.skipped and show_skipped:
        lines.append(f"Skipped or corrected ({len(report.skipped)}):")
        lines += [f"  {p}" for p in report.skipped[:SHOWN_PROBLEMS]]
        if len(report.skipped) > SHOWN_PROBLEMS:
            lines.append(f"  ... and {len(report.skipped) - SHOWN_PROBLEMS} more")
    elif report.skipped:
        lines.append(f"Skipped or corrected: {len(report.skipped)} (listed above).")
    if report.ignored:
        lines.append(f"Not imported (unsupported file types): {len(report.ignored)} files, e.g. {report.ignored[0]}")
    if report.undated:
        lines.append(f"Dates: {report.undated} documents state no updated_at; the file date is used and shown as unknown.")
    if report.playbook_source == "generic":
        lines.append(f"Playbook: none in the workspace, the generic one is used. To edit it: "
                     f"cp {report.generic_playbook} {report.data_dir / 'playbook.yaml'}")
    if not report.customers:
        lines.append("Customers: no customers.jsonl, so customer context is empty.")
    if report.zero_shot:
        lines.append("Triage: no labelled tickets.jsonl, so tickets are classified zero-shot from the playbook's "
                     "category descriptions (calibrated, low confidence).")
    return "\n".join(lines)
