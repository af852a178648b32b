"""The city profile: zones, populations, outline; point-to-zone and point-to-H3 assignment."""
