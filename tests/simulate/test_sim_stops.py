"""Stop records: the export matches the truth, and the injected disparity is written to the truth."""

from __future__ import annotations

import numpy as np

from sim_helpers import read_csv, read_parquet


def test_stops_export_matches_the_truth_and_the_parameters(run) -> None:
    export = read_csv(run.exports["stops"]).to_pydict()
    truth = read_parquet(run.truth["stops.parquet"])
    assert len(export["stop_id"]) == len(truth["stop_id"]) == run.summary.rows["stops"] > 0
    assert list(export["stop_id"]) == list(truth["stop_id"])
    assert list(export["zone"]) == list(truth["zone_id"])
    searched = np.array([p == "true" or v == "true" for p, v in zip(export["person_searched"],
                                                                    export["vehicle_searched"])])
    assert (searched == np.asarray(truth["searched"], dtype=bool)).all()
    assert all((f is None) != s for f, s in zip(export["found"], searched))      # found only after a search
    p = run.params["parameters"]["stops"]
    assert p["search_ratio"] == 1.5 and p["hit_gap"] == 0.1 and p["daylight_excess"] == 0.5
    target = np.asarray(truth["target_area"], dtype=bool)
    p_search = np.asarray(truth["p_search"], dtype=float)
    assert np.allclose(p_search[target], p["search_rate"] * p["search_ratio"])
    assert np.allclose(p_search[~target], p["search_rate"])
    assert set(export["initiated"]) <= {"dispatch", "self"} and not any(k.startswith("perceived") for k in export)
