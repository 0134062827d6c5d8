"""Evaluations: labeled dataset, evaluator functions, the LangSmith runner, reports and CI thresholds."""
