"""Proof and control: provenance, fairness of places, feedback-loop monitor, urn model, stop audits.

See ``docs/fairness.md``; configuration in ``audits.toml`` (:mod:`observatoire.audits.config`).
"""
