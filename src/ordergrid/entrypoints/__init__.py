"""Entrypoints: HTTP API, command line and worker; thin translators to commands."""
