"""Evaluation datasets: hand-written tickets, their schema and the builder of ``sample_eval.jsonl``."""
