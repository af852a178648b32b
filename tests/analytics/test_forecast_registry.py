"""The forecaster registry: built-ins, plug-ins of the ``observatoire.forecasters`` entry points, and refusals.

Entry points are faked by monkeypatching ``importlib.metadata.entry_points`` (nothing is installed);
their targets live in a module put in ``sys.modules`` for the test.
"""

from __future__ import annotations

import importlib.metadata
import sys
import types
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

import numpy as np
import pytest

from observatoire.analytics.forecast import (
    FORECASTERS,
    GROUP,
    EventArrays,
    Forecast,
    Grid,
    MethodDefaults,
    Naive,
    build_forecaster,
    load_forecasters,
    method_defaults,
    training_events,
)
from observatoire.analytics.forecast.service import ForecastService
from observatoire.errors import InputError

MODULE = "fake_forecaster_plugins"


@dataclass(frozen=True)
class Recency:
    """Exponentially decayed counts per cell."""

    half_life: float = 7.0
    name: ClassVar[str] = "recency"
    defaults: ClassVar[MethodDefaults] = MethodDefaults(50_000, {"half_life": 14.0})

    def fit_predict(self, events: EventArrays, grid: Grid, *, start: float, end: float, horizon: float,
                    rng: np.random.Generator) -> Forecast:
        train = training_events(events, grid, start=start, end=end, horizon=horizon)
        w = 0.5 ** ((end - train.t) / self.half_life)
        return Forecast(self.name, np.where(grid.active, np.bincount(train.cell, w, grid.n_cells), 0.0), {})


@dataclass(frozen=True)
class OtherNaive(Recency):
    name: ClassVar[str] = "naive"


@dataclass(frozen=True)
class AnotherRecency(Recency):
    """A second package's method of the same name."""


@dataclass(frozen=True)
class Misnamed(Recency):
    name: ClassVar[str] = "something_else"


class NoFit:
    name: ClassVar[str] = "no_fit"


class PositionalOnly:
    name: ClassVar[str] = "positional_only"

    def fit_predict(self, events: Any, grid: Any, start: float, end: float, horizon: float) -> Forecast:  # no rng
        raise AssertionError("never called")


class BadName(Recency):
    name: ClassVar[str] = "Crystal Ball"


class BadDefaults(Recency):
    name: ClassVar[str] = "bad_defaults"
    defaults: ClassVar[Any] = {"max_train_events": 10}


@dataclass(frozen=True)
class UnknownSetting(Recency):
    name: ClassVar[str] = "unknown_setting"
    defaults: ClassVar[MethodDefaults] = MethodDefaults(settings={"bandwidth": 3})


def recency_function(events: Any, grid: Any, *, start: float, end: float, horizon: float, rng: Any) -> Any:
    raise AssertionError("never called")


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch):
    """``plugins(name=target, ...)`` makes those the group's entry points (targets: attributes of MODULE or paths)."""
    module = types.ModuleType(MODULE)
    for obj in (Recency, AnotherRecency, OtherNaive, Misnamed, NoFit, PositionalOnly, BadName, BadDefaults,
                UnknownSetting, recency_function):
        setattr(module, obj.__name__, obj)
    monkeypatch.setitem(sys.modules, MODULE, module)
    real = importlib.metadata.entry_points

    def install(*pairs: tuple[str, str]) -> None:
        eps = [importlib.metadata.EntryPoint(name, target if ":" in target else f"{MODULE}:{target}", GROUP)
               for name, target in pairs]

        def fake(**params: Any) -> Any:
            return eps if params.get("group") == GROUP else real(**params)

        monkeypatch.setattr(importlib.metadata, "entry_points", fake)

    return install


def test_when_no_plugin_is_installed_then_the_built_ins_are_registered(plugins) -> None:
    plugins()
    assert dict(load_forecasters()) == dict(FORECASTERS)
    assert sorted(FORECASTERS) == ["grid_etas", "historical_average", "naive", "prospective", "st_etas"]


def test_when_a_plugin_is_declared_then_it_is_registered_and_served_with_its_own_defaults(plugins) -> None:
    plugins(("recency", "Recency"))
    found = load_forecasters()
    assert found["recency"] is Recency and set(found) == set(FORECASTERS) | {"recency"}
    service = ForecastService(found)
    spec = service.spec("recency", end=date(2024, 6, 1), horizon_days=7, train_days=90, k=0.05, cell_m=250.0, seed=0)
    assert spec.max_train_events == 50_000 and spec.settings == (("half_life", 14.0),)
    assert service.model(spec).inner == Recency(half_life=14.0)
    assert build_forecaster(found, "recency").name == "recency"
    assert method_defaults(Recency).max_train_events == 50_000


def test_when_a_built_in_is_also_declared_through_the_group_then_it_is_the_same_forecaster(plugins) -> None:
    plugins(("naive", "observatoire.analytics.forecast.baselines:Naive"))
    assert load_forecasters()["naive"] is Naive


@pytest.mark.parametrize(("pairs", "needle"), [
    ((("naive", "OtherNaive"),), "already taken by a built-in forecaster"),
    ((("recency", "Recency"), ("recency", "AnotherRecency")), "already taken by another plug-in"),
    ((("recency", "Misnamed"),), "named 'something_else': the names must match"),
    ((("no_fit", "NoFit"),), "no fit_predict method"),
    ((("positional_only", "PositionalOnly"),), "fit_predict cannot be called as fit_predict(events, grid, *,"),
    ((("crystal", "BadName"),), "lower-case code"),
    ((("bad_defaults", "BadDefaults"),), "defaults must be a MethodDefaults"),
    ((("unknown_setting", "UnknownSetting"),), "cannot be built from keyword settings ['bandwidth']"),
    ((("recency", "recency_function"),), "not a class"),
    ((("ghost", "no_such_package.module:Ghost"),), "cannot be loaded: ModuleNotFoundError"),
    ((("ghost", "Ghost"),), "cannot be loaded: AttributeError"),
])
def test_when_a_plugin_collides_or_fails_the_protocol_then_a_clear_error_names_it(
    plugins, pairs: tuple[tuple[str, str], ...], needle: str
) -> None:
    plugins(*pairs)
    with pytest.raises(InputError) as err:
        load_forecasters()
    message = str(err.value)
    assert message.startswith("forecaster plug-in ") and needle in message
    assert repr(pairs[-1][0]) in message                # the entry point at fault is named


def test_when_an_unknown_method_is_built_then_the_error_lists_the_known_ones() -> None:
    with pytest.raises(InputError, match="known: grid_etas, historical_average, naive, prospective, st_etas"):
        build_forecaster(FORECASTERS, "crystal_ball")
    with pytest.raises(InputError, match="bad parameters for forecaster 'grid_etas'"):
        build_forecaster(FORECASTERS, "grid_etas", bandwidth=3)


def test_when_methods_declare_their_defaults_then_the_etas_fits_are_capped_and_stopped_early() -> None:
    assert method_defaults(FORECASTERS["grid_etas"]) == MethodDefaults(20_000, {"max_iter": 100, "tol": 1e-4})
    assert method_defaults(FORECASTERS["st_etas"]) == MethodDefaults(4_000, {"max_iter": 100, "tol": 1e-4})
    for name in ("naive", "historical_average", "prospective"):
        assert method_defaults(FORECASTERS[name]) == MethodDefaults()
    assert method_defaults(NoFit) == MethodDefaults(200_000, {})           # a class that declares none
    with pytest.raises(InputError, match="positive whole number"):
        MethodDefaults(0)
    with pytest.raises(TypeError):
        MethodDefaults().settings["tol"] = 1.0                              # read-only
