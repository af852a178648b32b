"""One root error class; each error also inherits the matching built-in.

Error messages must never contain raw record values (identifiers, free text):
they name files, rows, fields and reasons only.
"""

from __future__ import annotations


class ObservatoireError(Exception):
    """Root of every error raised on purpose by Observatoire."""


class InputError(ObservatoireError, ValueError):
    """An input (file, parameter, request) cannot be used as given."""


class UnknownSourceError(InputError):
    """A source name or file that no registered source recognises."""


class SchemaError(InputError):
    """Data that does not match the schema it claims (source file or canonical event)."""


class UnreadableFileError(InputError):
    """A file that cannot be opened or decoded."""


class StoreError(ObservatoireError, RuntimeError):
    """The store is inconsistent or cannot be written."""
