"""Errors of the PII scrubber (rooted in :class:`observatoire.errors.ObservatoireError`)."""

from __future__ import annotations

from observatoire.errors import ObservatoireError


class MissingModelError(ObservatoireError, ImportError):
    """The spaCy model the scrubber was asked to use is not installed."""

    def __init__(self, model: str) -> None:
        package = model.replace("_", "-")
        hint = f"pip install '{package}==3.8.0'" if model.startswith("fr_core_news_") else f"pip install {package}"
        super().__init__(f"the spaCy model {model!r} is not installed; install it with: {hint} "
                         "(and spacy>=3.8,<3.9), or pass another model name to Scrubber(model=...)")
        self.model = model
