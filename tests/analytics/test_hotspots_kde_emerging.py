"""Kernel density surfaces and emerging hotspots on synthetic data."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from observatoire.analytics.hotspots.emerging import EMERGING_CATEGORIES, emerging_hotspots
from observatoire.analytics.hotspots.kde import kde_surface
from observatoire.errors import InputError

CENTRES = np.arange(0.0, 2000.0, 25.0) + 12.5  # 80 cells of 25 m, 0..2000 m


def clustered_points(seed: int = 0) -> np.ndarray:
    gen = np.random.default_rng(seed)
    cluster = gen.normal([1400.0, 600.0], 60.0, size=(400, 2))
    background = gen.uniform(400.0, 1600.0, size=(100, 2))
    return np.vstack([cluster, background])


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
def test_when_the_grid_covers_the_points_then_the_surface_integrates_to_the_number_of_events(kernel):
    points = clustered_points()
    surface = kde_surface(points, CENTRES, CENTRES, 100.0, kernel)
    assert surface.shape == (80, 80)
    assert_allclose(surface.sum() * 25.0 * 25.0, 500.0, rtol=0.01)


@pytest.mark.parametrize("kernel", ["quartic", "gaussian"])
def test_when_points_cluster_then_the_surface_peaks_at_the_cluster(kernel):
    surface = kde_surface(clustered_points(), CENTRES, CENTRES, 100.0, kernel)
    row, col = np.unravel_index(np.argmax(surface), surface.shape)
    assert abs(CENTRES[col] - 1400.0) <= 50.0 and abs(CENTRES[row] - 600.0) <= 50.0


def test_when_one_point_sits_on_a_centre_then_the_peak_is_the_kernel_height():
    # Quartic: K(0) = 3 / (pi h^2); Gaussian: K(0) = 1 / (2 pi h^2).
    h = 100.0
    point = np.array([[CENTRES[10], CENTRES[20]]])
    assert_allclose(kde_surface(point, CENTRES, CENTRES, h, "quartic")[20, 10], 3 / (math.pi * h * h))
    assert_allclose(kde_surface(point, CENTRES, CENTRES, h, "gaussian")[20, 10], 1 / (2 * math.pi * h * h))
    # Quartic at d = h / 2: 3 / (pi h^2) * (1 - 1/4)^2; zero beyond h.
    quartic = kde_surface(point, CENTRES, CENTRES, h, "quartic")
    assert_allclose(quartic[20, 12], 3 / (math.pi * h * h) * 0.75**2)
    assert quartic[20, 14] == 0.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((np.ones((3, 3)), CENTRES, CENTRES, 10.0, "quartic"), "shape"),
        ((np.ones((3, 2)), CENTRES[::-1], CENTRES, 10.0, "quartic"), "increasing"),
        ((np.ones((3, 2)), CENTRES, CENTRES, 0.0, "quartic"), "bandwidth"),
        ((np.ones((3, 2)), CENTRES, CENTRES, 10.0, "epanechnikov"), "kernel"),
    ],
)
def test_when_kde_inputs_are_bad_then_input_error(args, message):
    with pytest.raises(InputError, match=message):
        kde_surface(*args)


# --------------------------------------------------------------------------- emerging hotspots


def growing_cluster(seed: int = 0, periods: int = 10) -> np.ndarray:
    """Background Poisson(4) on 12 x 12; around (3, 8) the intensity grows as 4 + 2 t."""
    gen = np.random.default_rng(seed)
    intensity = np.full((periods, 12, 12), 4.0)
    intensity[:, 2:5, 7:10] += 2.0 * np.arange(periods)[:, None, None]
    return gen.poisson(intensity).astype(float)


def test_when_a_cell_grows_then_it_is_emerging():
    result = emerging_hotspots(growing_cluster())
    assert result.category[3, 8] == "emerging"
    assert result.tau[3, 8] > 0.6 and result.p_trend[3, 8] <= 0.05
    assert (3, 8) in result.emerging_cells
    assert result.category[9, 2] != "emerging"
    assert set(np.unique(result.category)) <= set(EMERGING_CATEGORIES)
    assert result.z.shape == result.hot.shape == (10, 12, 12)


def test_when_a_hotspot_is_steady_then_it_is_persistent_not_emerging():
    gen = np.random.default_rng(1)
    intensity = np.full((10, 12, 12), 4.0)
    intensity[:, 7:10, 2:5] = 14.0
    result = emerging_hotspots(gen.poisson(intensity).astype(float))
    assert result.hot[:, 8, 3].all()
    assert result.category[8, 3] == "persistent"


def test_when_another_cluster_grows_then_a_steady_hotspot_can_look_diminishing():
    # Gi* is relative to each period's mean and variance: a growing cluster elsewhere lowers the
    # z of a steady one. Documented caveat, pinned here so that a change of behaviour is noticed.
    counts = growing_cluster()
    counts[:, 7:10, 2:5] += np.random.default_rng(2).poisson(10.0, size=(10, 3, 3))
    result = emerging_hotspots(counts)
    assert result.tau[8, 3] < 0
    assert result.category[8, 3] in {"diminishing", "persistent", "sporadic"}


def test_when_the_cluster_shrinks_then_it_is_not_emerging():
    counts = growing_cluster()[::-1]  # the same cluster fading away: hot first, gone at the end
    result = emerging_hotspots(counts)
    assert result.category[3, 8] in {"historical", "diminishing", "none"}
    assert result.tau[3, 8] < 0


def test_when_there_are_too_few_periods_then_input_error():
    with pytest.raises(InputError, match="n_periods >= 3"):
        emerging_hotspots(np.ones((2, 4, 4)))
