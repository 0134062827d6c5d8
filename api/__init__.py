"""The service layer shared by the CLI and the HTTP API."""
