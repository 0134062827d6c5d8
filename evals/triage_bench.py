"""Triage benchmark: train :class:`tools.classifier.TextClassifier` on one CSV, score on another.

Both CSVs need a header with a ``text`` column and a ``label`` column (``category`` is
accepted as an alias, the column name used by banking77). Texts are embedded once,
batched, with ``tools.embeddings.default_embeddings``. Latency is measured the way a
live ticket is handled: one text at a time, embedding plus classification.

Run: ``python -m evals.triage_bench --train TRAIN.csv --test TEST.csv``.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from tools.classifier import TextClassifier
from tools.embeddings import default_embeddings

LABEL_COLUMNS = ("label", "category")
LATENCY_SAMPLE = 1000  # tickets timed one at a time (all of them if fewer)


def read_labelled_csv(path: Path) -> tuple[list[str], list[str]]:
    """Read ``text`` and ``label`` columns from a CSV file.

    Args:
        path: CSV file with a header row.

    Returns:
        The texts and their labels, in file order.

    Raises:
        ValueError: If a column is missing, a row is malformed or the file has no rows.
    """
    path = Path(path)
    texts: list[str] = []
    labels: list[str] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{path}: file is empty (expected a header with 'text' and 'label')")
        names = [h.strip().lower() for h in header]
        if "text" not in names:
            raise ValueError(f"{path}, line 1: missing column 'text' (header: {header})")
        label_name = next((n for n in LABEL_COLUMNS if n in names), None)
        if label_name is None:
            raise ValueError(f"{path}, line 1: missing column 'label' (header: {header})")
        i_text, i_label = names.index("text"), names.index(label_name)
        for row in reader:
            line = reader.line_num
            if not row:
                continue
            if len(row) != len(header):
                raise ValueError(f"{path}, line {line}: expected {len(header)} fields, got {len(row)}")
            text, label = row[i_text].strip(), row[i_label].strip()
            if not text or not label:
                raise ValueError(f"{path}, line {line}: empty {'text' if not text else 'label'}")
            texts.append(text)
            labels.append(label)
    if not texts:
        raise ValueError(f"{path}: no data rows")
    return texts, labels


def confusion_counts(expected: Sequence[str], predicted: Sequence[str]) -> dict[str, dict[str, int]]:
    """``{true_label: {predicted_label: n}}`` over the test texts (sorted; only pairs that occur)."""
    counts = Counter((str(e), str(p)) for e, p in zip(expected, predicted, strict=True))
    out: dict[str, dict[str, int]] = {}
    for (true, pred), n in sorted(counts.items()):
        out.setdefault(true, {})[pred] = n
    return out


def run_triage_benchmark(train_csv: Path, test_csv: Path, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Train on ``train_csv``, evaluate on ``test_csv``.

    Args:
        train_csv: Training CSV (``text``, ``label``).
        test_csv: Test CSV (``text``, ``label``).
        progress: Optional callback receiving short progress messages.

    Returns:
        ``train_size``, ``test_size``, ``classes``, ``accuracy``, ``macro_f1``,
        ``ms_per_ticket`` (embedding + classification of one ticket, averaged over a random
        sample of 1,000 test tickets, or all of them if fewer), ``train_seconds`` (fit only) and
        ``confusion`` (:func:`confusion_counts` of the test set).
    """
    say = progress or (lambda _msg: None)
    train_texts, train_labels = read_labelled_csv(train_csv)
    test_texts, test_labels = read_labelled_csv(test_csv)
    embedder = default_embeddings()

    say(f"embedding {len(train_texts)} training and {len(test_texts)} test texts")
    train_vectors = embedder.embed_array(train_texts)
    test_vectors = embedder.embed_array(test_texts)

    say("training the classifier")
    start = time.perf_counter()
    clf = TextClassifier(seed=0).fit(train_texts, train_labels, train_vectors)
    train_seconds = time.perf_counter() - start

    say("scoring the test set")
    predicted = [label for label, _ in clf.predict(test_texts, test_vectors)]

    say("measuring per-ticket latency")
    n = min(len(test_texts), LATENCY_SAMPLE)
    sample = np.random.default_rng(0).permutation(len(test_texts))[:n]
    clf.predict(test_texts[:1], embedder.embed_array(test_texts[:1]))  # warm-up
    start = time.perf_counter()
    for i in sample:
        text = [test_texts[i]]
        clf.predict(text, embedder.embed_array(text))
    ms_per_ticket = (time.perf_counter() - start) * 1000 / n

    return {
        "train_size": len(train_texts),
        "test_size": len(test_texts),
        "classes": len(set(train_labels) | set(test_labels)),
        "accuracy": float(accuracy_score(test_labels, predicted)),
        "macro_f1": float(f1_score(test_labels, predicted, average="macro")),
        "ms_per_ticket": float(ms_per_ticket),
        "train_seconds": float(train_seconds),
        "confusion": confusion_counts(test_labels, predicted),
    }


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: print the benchmark numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, required=True, help="training CSV (text,label)")
    parser.add_argument("--test", type=Path, required=True, help="test CSV (text,label)")
    args = parser.parse_args(argv)
    result = run_triage_benchmark(args.train, args.test, progress=lambda m: print(f"... {m}", flush=True))
    print(f"train size     {result['train_size']}")
    print(f"test size      {result['test_size']}")
    print(f"classes        {result['classes']}")
    print(f"accuracy       {result['accuracy']:.4f}")
    print(f"macro F1       {result['macro_f1']:.4f}")
    print(f"ms per ticket  {result['ms_per_ticket']:.2f}")
    print(f"train seconds  {result['train_seconds']:.1f}")


if __name__ == "__main__":
    main()
