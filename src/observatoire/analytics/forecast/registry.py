"""The forecasters by name: the built-ins, and plug-ins of the ``observatoire.forecasters`` entry-point group.

A third-party package adds a method by declaring, in its ``pyproject.toml``::

    [project.entry-points."observatoire.forecasters"]
    my_method = "my_package.module:MyMethod"

where ``MyMethod`` is a class implementing
:class:`~observatoire.analytics.forecast.grid.Forecaster` whose ``name`` is
``my_method``. :func:`load_forecasters` reads the group when called (at the
app's start, never at import time) and refuses, with an
:class:`~observatoire.errors.InputError` naming the entry point, a plug-in
that cannot be loaded, that fails the protocol (:func:`protocol_problems`),
whose ``name`` differs from its entry point's, or whose name is already taken
by a built-in or another plug-in. An entry point naming a built-in's own class
is the built-in itself, not a collision.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from observatoire.analytics.forecast.baselines import HistoricalAverage, Naive, Prospective
from observatoire.analytics.forecast.grid import Forecaster, MethodDefaults
from observatoire.analytics.forecast.grid_etas import GridEtas
from observatoire.analytics.forecast.st_etas import StEtas
from observatoire.errors import InputError

GROUP = "observatoire.forecasters"
_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")

FORECASTERS: Mapping[str, type] = MappingProxyType({
    cls.name: cls for cls in (Naive, HistoricalAverage, Prospective, GridEtas, StEtas)
})


def protocol_problems(obj: Any) -> list[str]:
    """What keeps ``obj`` from being a forecaster class (empty when nothing does).

    Checked without building or running it: a class; a ``name`` that is a lower-case code
    (``[a-z][a-z0-9_]*``, 40 characters at most: it travels in query strings and the audit log);
    ``fit_predict`` callable as ``fit_predict(events, grid, *, start, end, horizon, rng)``;
    ``defaults``, when declared, a :class:`MethodDefaults` whose settings the constructor accepts.
    """
    if not isinstance(obj, type):
        return [f"it is a {type(obj).__name__}, not a class"]
    problems = []
    name = getattr(obj, "name", None)
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        problems.append("its name must be a class attribute holding a lower-case code ([a-z][a-z0-9_]*)")
    raw = inspect.getattr_static(obj, "fit_predict", None)
    fit = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
    if not callable(fit):
        problems.append("it has no fit_predict method")
    else:
        leading = (None, None) if isinstance(raw, staticmethod) else (None, None, None)   # (self,) events, grid
        try:
            inspect.signature(fit).bind(*leading, start=0.0, end=1.0, horizon=1.0, rng=None)
        except (TypeError, ValueError) as exc:
            problems.append(f"fit_predict cannot be called as fit_predict(events, grid, *, start, end, horizon, "
                            f"rng) ({exc})")
    defaults = getattr(obj, "defaults", None)
    if defaults is not None and not isinstance(defaults, MethodDefaults):
        problems.append(f"its defaults must be a MethodDefaults, not a {type(defaults).__name__}")
    else:
        settings = dict(defaults.settings) if defaults is not None else {}
        try:
            inspect.signature(obj).bind(**settings)
        except (TypeError, ValueError) as exc:
            problems.append(f"it cannot be built from keyword settings {sorted(settings)} ({exc})")
    return problems


def load_forecasters() -> Mapping[str, type]:
    """The built-in forecasters and the plug-ins of the :data:`GROUP` entry points, by name (loaded now).

    Raises
    ------
    InputError
        For a plug-in that cannot be loaded, fails the protocol, is named otherwise than its entry
        point, or takes a name already registered.
    """
    found: dict[str, type] = dict(FORECASTERS)
    plugins: set[str] = set()
    for ep in sorted(importlib.metadata.entry_points(group=GROUP), key=lambda e: (e.name, e.value)):
        where = f"forecaster plug-in {ep.name!r} ({ep.value})"
        try:
            obj = ep.load()
        except Exception as exc:   # any failure of a third party's import is reported the same way
            raise InputError(f"{where} cannot be loaded: {type(exc).__name__}: {exc}") from exc
        if found.get(ep.name) is obj:
            continue      # a built-in (or the same class) registered through the group too
        if ep.name in found:
            owner = "another plug-in" if ep.name in plugins else "a built-in forecaster"
            raise InputError(f"{where}: the name {ep.name!r} is already taken by {owner}")
        problems = protocol_problems(obj)
        if problems:
            raise InputError(f"{where} is not a forecaster: {'; '.join(problems)}")
        if obj.name != ep.name:
            raise InputError(f"{where} provides a forecaster named {obj.name!r}: the names must match")
        found[ep.name] = obj
        plugins.add(ep.name)
    return MappingProxyType(found)


def method_defaults(cls: type) -> MethodDefaults:
    """How the forecasting service runs ``cls`` unless told otherwise: its ``defaults``, or ``MethodDefaults()``."""
    defaults = getattr(cls, "defaults", None)
    return defaults if isinstance(defaults, MethodDefaults) else MethodDefaults()


def build_forecaster(forecasters: Mapping[str, type], name: str, /, **params: Any) -> Forecaster:
    """The forecaster ``name`` of ``forecasters``, configured at construction."""
    try:
        cls = forecasters[name]
    except KeyError:
        raise InputError(f"unknown forecaster {name[:40]!r}; known: {', '.join(sorted(forecasters))}") from None
    try:
        forecaster: Forecaster = cls(**params)
    except TypeError as exc:
        raise InputError(f"bad parameters for forecaster {name!r}: {exc}") from None
    return forecaster


def get_forecaster(name: str, /, **params: Any) -> Forecaster:
    """A built-in forecaster by name, configured at construction (``get_forecaster("grid_etas", t_max=10.0)``)."""
    return build_forecaster(FORECASTERS, name, **params)
