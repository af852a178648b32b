"""The rule registry: every alert exists only as a published, versioned, approved declarative rule.

- :mod:`~observatoire.registry.vocabulary` and :mod:`~observatoire.registry.lint`: what a YAML rule
  may say (a closed vocabulary) and the linter's one-line refusals;
- :mod:`~observatoire.registry.versions`: versions, proposals and a supervisor's approval, audited;
- :mod:`~observatoire.registry.feedback`: operators' verdicts on alerts and false-positive rates;
- :mod:`~observatoire.registry.cli`: ``observatoire rules lint|list|propose|approve|reject|history``.

The packaged rules (``registry/rules/*.yaml``) are version 1 of each rule. See ``docs/rules.md``.
"""
