"""Packet latency of the offline engine versus its compute floor, measured in one run.

For each ticket: the full packet (triage → context ∥ retrieve → draft → assess_risk →
approval checkpoint, through a SQLite checkpointer and ledger) versus the floor
(embed + FAISS search + classify alone). Prints p50/p99, tickets/s and the ratio.

    python benchmarks/packet_latency.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    """Run the benchmark and print the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="passes over the sample tickets")
    parser.add_argument("--tickets", type=Path, default=REPO / "data" / "sample_tickets.jsonl")
    args = parser.parse_args()

    from api.service import SupportDesk
    from tools.engine import ticket_text
    from tools.settings import Settings

    tickets = [json.loads(line) for line in args.tickets.read_text().splitlines() if line.strip()]
    state = Path(tempfile.mkdtemp(prefix="bench-"))
    started = time.perf_counter()
    desk = SupportDesk(Settings(state_dir=state))
    print(f"engine start-up (index + classifier build): {time.perf_counter() - started:.1f} s")
    engine = desk.engine

    def floor(ticket: dict[str, str]) -> None:
        text = ticket_text(ticket)
        vector = engine.embed(text)
        engine.classifier.predict_proba([text], vector[None, :])
        engine.kb.retrieve(text, vector, k=4)

    for ticket in tickets[:3]:  # warm-up
        floor(ticket)
        desk.submit({**ticket, "id": f"warm-{uuid.uuid4().hex[:8]}"})

    floor_times: list[float] = []
    packet_times: list[float] = []
    wall = time.perf_counter()
    for _ in range(args.rounds):
        for ticket in tickets:
            t0 = time.perf_counter()
            desk.submit({**ticket, "id": f"b-{uuid.uuid4().hex[:10]}"})
            packet_times.append(time.perf_counter() - t0)
    wall = time.perf_counter() - wall
    for _ in range(args.rounds):
        for ticket in tickets:
            t0 = time.perf_counter()
            floor(ticket)
            floor_times.append(time.perf_counter() - t0)

    p50, p99, f50 = pct(packet_times, 0.5), pct(packet_times, 0.99), pct(floor_times, 0.5)
    print(f"tickets: {len(packet_times)} ({len(tickets)} samples × {args.rounds} rounds), 1 process, SQLite checkpointer")
    print(f"packet latency  p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   {len(packet_times) / wall:6.1f} tickets/s")
    print(f"compute floor   p50 {f50:7.1f} ms   p99 {pct(floor_times, 0.99):7.1f} ms   (embed + search + classify)")
    print(f"overhead ratio  {p50 / f50:.2f}× the floor (target ≤ 1.5×; p50 target ≤ 30 ms)")


if __name__ == "__main__":
    main()
