"""Observatoire: a public-safety observatory for cities, place-based and privacy-first."""

__version__ = "0.1.0"
