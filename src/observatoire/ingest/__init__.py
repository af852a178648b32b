"""Ingest: source files -> privacy gate -> canonical events -> store, one atomic batch per file."""
