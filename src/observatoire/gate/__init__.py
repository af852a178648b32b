"""The privacy gate: the one way from a source into the store (``admit``)."""
