"""Authentication and roles: local accounts (argon2), server-side sessions, API tokens,
login throttling, CSRF tokens and OpenID Connect login.

Everything is built from :class:`observatoire.settings.Settings` by
:meth:`observatoire.auth.service.Auth.from_settings` and kept under
``settings.auth_dir`` (files of mode 0600, written atomically). Which role may
reach which route is declared in :mod:`observatoire.governance.access`; see ``docs/access.md``.
"""
