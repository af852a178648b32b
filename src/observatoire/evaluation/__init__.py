"""Effectiveness evaluation: plans registered before a deployment, and the analyses bound to them.

- :mod:`plans`: an evaluation plan (hypothesis, outcome stream, design, treated units and
  start dates, minimum detectable effect, power, alpha, pre-periods, buffer zones), checked and
  stored immutably with a content hash before the deployment starts;
- :mod:`power`: power and minimum detectable effect for overdispersed (negative binomial) counts;
- :mod:`randomised`, :mod:`did`, :mod:`synthetic`: the three designs, pure functions over a
  units x periods panel of counts (:mod:`conformal`: the synthetic control's conformal inference);
- :mod:`checks`: regression to the mean and displacement into buffer zones;
- :mod:`panel`: the panel from the store, and a simulator of panels with a known effect;
- :mod:`analysis`: runs the analysis a plan registered, and nothing else.

See ``docs/evaluation.md``.
"""
