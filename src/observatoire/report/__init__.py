"""The periodic control report: one generator, two versions (public, restricted), HTML or PDF, in French.

The entry point is :func:`observatoire.report.build.build_report` (imported there, so that loading the
command line does not load matplotlib or WeasyPrint).

- :mod:`~observatoire.report.build`: :func:`build_report`;
- :mod:`~observatoire.report.period`: the period (quarter, month or year);
- :mod:`~observatoire.report.releases`: the public figures, from the release archive only;
- :mod:`~observatoire.report.rules`: the rule registry; alerts raised and false-positive rates;
- :mod:`~observatoire.report.volumes`, :mod:`~observatoire.report.audits`, :mod:`~observatoire.report.auditlog`,
  :mod:`~observatoire.report.evaluations`, :mod:`~observatoire.report.holds`: the restricted sections;
- :mod:`~observatoire.report.collect`: which sections each version has;
- :mod:`~observatoire.report.charts`, :mod:`~observatoire.report.render`: PNG charts, HTML, PDF (WeasyPrint);
- :mod:`~observatoire.report.cli`: ``observatoire report``.

See ``docs/report.md``.
"""
