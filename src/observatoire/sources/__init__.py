"""Source connectors: each turns one kind of city export into canonical events (or a reference table)."""
