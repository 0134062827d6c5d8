"""The ``support-agent`` command line."""
