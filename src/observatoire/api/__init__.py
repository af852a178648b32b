"""The HTTP API and the map page, built by :func:`observatoire.api.app.create_app`.

Importing this package creates nothing: no application, no settings, no store.
"""
