"""Governance built in: the tamper-evident audit log, retention and legal holds, the purge.

Nothing here runs at import time; every object is built from :class:`~observatoire.settings.Settings`
at an entry point and passed down.
"""
