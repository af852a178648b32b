"""One router per resource: health, meta, zones, and the map page."""
