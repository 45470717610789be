"""Connectors: the documents other commerce systems send, turned into ordergrid commands."""
