"""How the truth is observed: volumes, recording shares and the deployment bias, within sampling error."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sim_helpers import read_csv, read_jsonl, read_parquet, within_binomial, within_poisson

SCALE = 0.05


def _patrol_hours(run) -> dict[tuple[str, str, str], float]:
    t = read_csv(run.exports["patrols"]).to_pydict()
    return {(d, c, z): float(h.replace(",", ".")) for d, c, z, h in
            zip(t["date"], t["creneau"], t["code_insee"], t["heures_patrouille"])}


def _shift_keys(occurred_at: np.ndarray) -> list[tuple[str, str]]:
    """(date, creneau) of each instant, from the local wall clock (night: 22 h to 06 h, dated by its start)."""
    local = pc.local_timestamp(pa.array(occurred_at).cast(pa.timestamp("us", tz="Europe/Paris")))
    hour = pc.hour(local).to_numpy()
    day = local.cast(pa.int64()).to_numpy() // 86_400_000_000
    day = np.where(hour < 6, day - 1, day)
    first = int(np.datetime64("2025-01-01", "D").astype(np.int64))
    day = np.maximum(day, first)
    dates = np.datetime_as_string(day.astype("datetime64[D]"))
    creneau = np.where(hour < 6, "nuit", np.where(hour < 14, "matin", np.where(hour < 22, "apres-midi", "nuit")))
    return [(f"{d[8:10]}/{d[5:7]}/{d[:4]}", c) for d, c in zip(dates.tolist(), creneau.tolist())]


def test_independent_reports_are_a_fixed_share_of_incidents(run) -> None:
    inc = read_parquet(run.truth["incidents.parquet"])
    p = run.params["parameters"]["logbook"]["report_probability"]
    n = len(inc["incident_id"])
    assert within_binomial((inc["logbook_discovery"] == "independent").sum(), n, p)


def test_directed_discoveries_follow_patrol_hours(run) -> None:
    """Expected directed entries, recomputed from the patrol export and κ, match the count."""
    inc = read_parquet(run.truth["incidents.parquet"])
    zr = read_parquet(run.truth["zone_rates.parquet"])
    lb = run.params["parameters"]["logbook"]
    need_unit = dict(zip(zr["zone_id"], zr["need_share"] * len(zr["zone_id"])))
    hours = _patrol_hours(run)
    keys = _shift_keys(inc["occurred_at"])
    h = np.array([hours[(d, c, z)] for (d, c), z in zip(keys, inc["zone_id"])])
    n = np.array([need_unit[z] for z in inc["zone_id"]])
    q = (1 - lb["report_probability"]) * (1 - np.exp(-lb["patrol_kappa"] * h / n))
    observed = (inc["logbook_discovery"] == "directed").sum()
    assert abs(observed - q.sum()) <= 4 * math.sqrt((q * (1 - q)).sum())


def test_when_a_zone_is_over_patrolled_then_more_initiative_entries_per_true_incident(run) -> None:
    inc = read_parquet(run.truth["incidents.parquet"])
    zr = read_parquet(run.truth["zone_rates.parquet"])
    links = read_parquet(run.truth["links.parquet"])
    mc = read_csv(run.exports["mains_courantes"]).to_pydict()
    origin = dict(zip(mc["numero"], mc["origine"]))
    zone_of = dict(zip(inc["incident_id"], inc["zone_id"]))
    over = set(zr["zone_id"][zr["over_deployed"]])
    initiative = {True: 0, False: 0}
    for rec, iid in zip(links["record_id"][links["source"] == "mains_courantes"],
                        links["incident_id"][links["source"] == "mains_courantes"]):
        if iid is not None and origin[rec] == "initiative":
            initiative[zone_of[iid] in over] += 1
    in_over = np.isin(inc["zone_id"], list(over))
    rate_over = initiative[True] / in_over.sum()
    rate_other = initiative[False] / (~in_over).sum()
    # expected ratio ≈ the over-deployment factor, 1.5 (a little less: 1 - exp(-x) is concave)
    assert rate_over > 1.2 * rate_other
    # while the independent source sees every zone alike
    indep = inc["logbook_discovery"] == "independent"
    assert abs(indep[in_over].mean() - indep[~in_over].mean()) < 0.04


def test_origins_split_as_documented(run) -> None:
    inc = read_parquet(run.truth["incidents.parquet"])
    links = read_parquet(run.truth["links.parquet"])
    mc = read_csv(run.exports["mains_courantes"]).to_pydict()
    origin = dict(zip(mc["numero"], mc["origine"]))
    lb = run.params["parameters"]["logbook"]
    sel = (links["source"] == "mains_courantes") & (links["kind"] == "incident")
    origins = np.array([origin[r] for r in links["record_id"][sel]])
    independent = np.isin(origins, ["appel_usager", "requisition"])
    assert within_binomial((origins == "requisition").sum(), int(independent.sum()), lb["requisition_share"])
    cam = dict(zip(inc["incident_id"], inc["on_camera"]))
    video = origins == "videoprotection"
    assert video.any() and all(cam[i] for i in links["incident_id"][sel][video])
    non_incident = (links["source"] == "mains_courantes") & (links["kind"] == "activity")
    assert within_poisson(non_incident.sum(), lb["non_incident_per_year"] * SCALE)


def test_hospital_sees_a_fixed_share_of_violence_and_robbery(run) -> None:
    inc = read_parquet(run.truth["incidents.parquet"])
    probs = run.params["parameters"]["hospital"]["admission_probability"]
    for cat, p in probs.items():
        sel = inc["category"] == cat
        assert within_binomial(inc["hospital"][sel].sum(), int(sel.sum()), p), cat
    assert not inc["hospital"][~np.isin(inc["category"], list(probs))].any()
    rows = read_csv(run.exports["hospital"]).to_pydict()
    assert len(rows["sexe"]) == inc["hospital"].sum()
    # independent of patrols: the same share in over-patrolled zones and elsewhere
    zr = read_parquet(run.truth["zone_rates.parquet"])
    violent = inc["category"] == "violence"
    over = np.isin(inc["zone_id"], zr["zone_id"][zr["over_deployed"]])
    assert abs(inc["hospital"][violent & over].mean() - inc["hospital"][violent & ~over].mean()) < 0.06


def test_share_of_geotagged_posts(run) -> None:
    posts = read_jsonl(run.exports["social_media"])
    p = run.params["parameters"]["social"]["geotag_share"]
    assert within_binomial(sum(x["geo"] is not None for x in posts), len(posts), p)


def test_posts_burst_after_incidents_and_around_events(run) -> None:
    links = read_parquet(run.truth["links.parquet"])
    sm = links["source"] == "social_media"
    kinds = dict(zip(*np.unique(links["kind"][sm], return_counts=True)))
    assert kinds["incident"] > 0.1 * sm.sum() and kinds["planned_event"] > 0
    assert within_poisson(kinds["noise"], run.params["parameters"]["social"]["noise_posts_per_year"] * SCALE)


def test_cctv_detections_come_from_cameras_that_saw_the_incident(run) -> None:
    inc = read_parquet(run.truth["incidents.parquet"])
    links = read_parquet(run.truth["links.parquet"])
    cc = (links["source"] == "cctv_events") & (links["kind"] == "incident")
    seen = dict(zip(inc["incident_id"], inc["on_camera"]))
    assert cc.any() and all(seen[i] for i in links["incident_id"][cc])
    assert 0.03 < inc["on_camera"].mean() < 0.3
    events = read_jsonl(run.exports["cctv_events"])
    assert within_poisson(len(events), 180_000 * SCALE, k=12)  # documented order of magnitude


def test_fines_follow_patrol_hours(run) -> None:
    fines = read_csv(run.exports["verbalisations"]).to_pydict()
    fp = run.params["parameters"]["fines"]
    # Poisson with a mean calibrated to the documented volume (less the last night's spill into next year)
    assert within_poisson(len(fines["natinf"]), fp["fines_per_year"] * SCALE, k=5)
    hours = _patrol_hours(run)
    by_zone: dict[str, float] = {}
    for (_, _, z), h in hours.items():
        by_zone[z] = by_zone.get(z, 0.0) + h
    postcode_zone = {f"130{z[-2:]}": z for z in by_zone}
    counts: dict[str, int] = {}
    for lieu in fines["lieu"]:
        z = postcode_zone[lieu.rsplit(", ", 1)[1][:5]]
        counts[z] = counts.get(z, 0) + 1
    zones = sorted(by_zone)
    share_fines = np.array([counts.get(z, 0) for z in zones]) / len(fines["lieu"])
    share_hours = np.array([by_zone[z] for z in zones]) / sum(by_zone.values())
    assert np.corrcoef(share_fines, share_hours)[0, 1] > 0.95


def test_volumes_at_scale_one_are_documented_orders_of_magnitude(run) -> None:
    per_year = {k: v / SCALE for k, v in run.summary.rows.items()
                if k not in ("patrols", "cctv_cameras", "planned_events")}
    assert 75_000 < per_year["mains_courantes"] < 105_000
    assert 380_000 < per_year["verbalisations"] < 460_000
    assert 85_000 < per_year["municipal_reports"] < 115_000
    assert 2_800 < per_year["hospital"] < 5_200
    assert 190_000 < per_year["social_media"] < 250_000
    assert run.summary.rows["patrols"] == 365 * 3 * 16
    assert run.summary.rows["cctv_cameras"] == 1600
