"""The canonical event: the one record every source is turned into."""
