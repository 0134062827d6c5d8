"""Prompt and reply templates as UPPER_CASE constants with ``{placeholders}``."""
