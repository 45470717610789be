"""The HTTP API (`/v1`), as fixed by the API contract."""
