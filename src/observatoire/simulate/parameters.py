"""Every parameter of the simulated city-year, with its documented default.

The values are described and justified in ``docs/simulator.md``; a run writes
them all, with the seed, to ``truth/parameters.json``. Volumes are the
expected counts at ``scale = 1``; a run multiplies every event volume by its
scale, but not the structural data sets (patrol table, camera registry,
planned-event calendar), which describe the city rather than its events.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Hour-of-day profiles (local time, 0 h .. 23 h), relative weights.
HOUR_NIGHT = (1.6, 1.5, 1.3, 1.0, 0.6, 0.35, 0.3, 0.35, 0.45, 0.55, 0.65, 0.75,
              0.85, 0.9, 0.9, 0.95, 1.0, 1.1, 1.25, 1.4, 1.55, 1.7, 1.8, 1.75)
HOUR_NUISANCE = (1.8, 1.7, 1.4, 1.0, 0.5, 0.3, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6,
                 0.65, 0.6, 0.6, 0.65, 0.7, 0.8, 0.95, 1.1, 1.3, 1.6, 1.9, 2.0)
HOUR_DAY = (0.3, 0.25, 0.2, 0.15, 0.1, 0.1, 0.2, 0.45, 0.8, 1.1, 1.35, 1.55,
            1.6, 1.55, 1.6, 1.7, 1.75, 1.8, 1.7, 1.4, 1.05, 0.8, 0.6, 0.45)
HOUR_ROBBERY = (0.9, 0.8, 0.6, 0.45, 0.3, 0.2, 0.25, 0.4, 0.6, 0.75, 0.85, 0.95,
                1.0, 1.05, 1.1, 1.2, 1.35, 1.5, 1.6, 1.65, 1.6, 1.5, 1.3, 1.1)
HOUR_BURGLARY = (0.5, 0.45, 0.4, 0.35, 0.3, 0.3, 0.4, 0.6, 0.9, 1.2, 1.4, 1.5,
                 1.4, 1.4, 1.5, 1.6, 1.65, 1.6, 1.5, 1.3, 1.1, 0.9, 0.7, 0.6)
HOUR_VEHICLE = (1.5, 1.6, 1.6, 1.4, 1.0, 0.6, 0.5, 0.6, 0.7, 0.7, 0.75, 0.8,
                0.8, 0.8, 0.85, 0.9, 0.95, 1.0, 1.1, 1.2, 1.3, 1.4, 1.45, 1.5)
HOUR_DAMAGE = (1.5, 1.4, 1.2, 0.9, 0.6, 0.4, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8,
               0.85, 0.9, 0.95, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.6, 1.55)
HOUR_DRUGS = (0.8, 0.6, 0.4, 0.25, 0.15, 0.1, 0.15, 0.3, 0.5, 0.7, 0.9, 1.1,
              1.3, 1.45, 1.6, 1.7, 1.75, 1.8, 1.8, 1.75, 1.6, 1.4, 1.2, 1.0)
HOUR_HYGIENE = (0.3, 0.25, 0.2, 0.2, 0.3, 0.6, 1.1, 1.5, 1.6, 1.6, 1.5, 1.4,
                1.3, 1.3, 1.3, 1.3, 1.3, 1.3, 1.2, 1.1, 0.9, 0.7, 0.5, 0.4)
HOUR_ROAD = (0.35, 0.3, 0.25, 0.2, 0.25, 0.45, 0.9, 1.6, 1.8, 1.3, 1.1, 1.2,
             1.4, 1.3, 1.2, 1.3, 1.5, 1.8, 1.9, 1.6, 1.1, 0.8, 0.6, 0.45)

# Day-of-week profiles (Monday .. Sunday, of the local date).
DOW_NIGHTLIFE = (0.85, 0.85, 0.9, 0.95, 1.15, 1.35, 1.15)
DOW_SHOPPING = (1.0, 1.0, 1.0, 1.0, 1.05, 1.15, 0.8)
DOW_BURGLARY = (1.05, 1.05, 1.05, 1.05, 1.0, 0.9, 0.9)
DOW_VEHICLE = (0.95, 0.95, 0.95, 1.0, 1.05, 1.1, 1.0)
DOW_FLAT = (1.05, 1.0, 1.0, 1.0, 1.0, 1.0, 0.95)
DOW_ROAD = (1.05, 1.05, 1.05, 1.05, 1.1, 0.9, 0.8)

# Seasonal profile (January .. December): Marseille's summer (tourists, long
# evenings outside) raises every category.
MONTHS = (0.88, 0.86, 0.93, 0.98, 1.03, 1.10, 1.17, 1.12, 1.05, 0.99, 0.93, 0.96)


def _d(**kw: Any) -> Any:
    return field(default_factory=lambda: dict(kw))


@dataclass(frozen=True)
class IncidentParameters:
    """Step 1: the true incidents (background Poisson process + near-repeat branching)."""

    background_per_year: float = 150_000.0
    deprivation_beta: float = 1.0
    category_shares: dict[str, float] = _d(
        violence=0.14, theft=0.22, robbery=0.04, burglary=0.06, vehicle_crime=0.10, criminal_damage=0.12,
        drugs=0.07, public_order=0.07, nuisance=0.10, public_hygiene=0.05, road_safety=0.03)
    hour_profiles: dict[str, tuple[float, ...]] = _d(
        violence=HOUR_NIGHT, theft=HOUR_DAY, robbery=HOUR_ROBBERY, burglary=HOUR_BURGLARY,
        vehicle_crime=HOUR_VEHICLE, criminal_damage=HOUR_DAMAGE, drugs=HOUR_DRUGS, public_order=HOUR_NIGHT,
        nuisance=HOUR_NUISANCE, public_hygiene=HOUR_HYGIENE, road_safety=HOUR_ROAD)
    dow_profiles: dict[str, tuple[float, ...]] = _d(
        violence=DOW_NIGHTLIFE, theft=DOW_SHOPPING, robbery=DOW_SHOPPING, burglary=DOW_BURGLARY,
        vehicle_crime=DOW_VEHICLE, criminal_damage=DOW_NIGHTLIFE, drugs=DOW_SHOPPING, public_order=DOW_NIGHTLIFE,
        nuisance=DOW_NIGHTLIFE, public_hygiene=DOW_FLAT, road_safety=DOW_ROAD)
    month_profile: tuple[float, ...] = MONTHS
    hotspots_per_zone: int = 4
    hotspot_sigma_m: tuple[float, float] = (150.0, 450.0)
    hotspot_weight: float = 0.7
    branching_ratio: float = 0.3
    offspring_delay_mean_days: float = 2.0
    offspring_sigma_m: float = 150.0
    max_generations: int = 60


@dataclass(frozen=True)
class PatrolParameters:
    """Step 2: officers and patrol hours per day, shift and arrondissement."""

    officers_per_shift: dict[str, float] = _d(**{"matin": 95.0, "apres-midi": 110.0, "nuit": 45.0})
    weekend_night_factor: float = 1.2      # Friday and Saturday nights
    summer_factor: float = 1.1             # June to August
    daily_noise_sd: float = 0.08           # log-normal day-to-day variation of the total
    hours_per_officer: tuple[float, float] = (5.5, 7.0)
    over_deployment_factor: float = 1.5
    over_deployment_min_deprivation: float = 0.7


@dataclass(frozen=True)
class LogbookParameters:
    """Step 3: which incidents reach the municipal police logbook, and how."""

    report_probability: float = 0.30       # a resident calls (independent discovery)
    patrol_kappa: float = 0.003            # per patrol hour per unit of need (see docs)
    requisition_share: float = 0.15        # of independent entries
    videoprotection_share: float = 0.5     # of directed discoveries of an incident on camera
    non_incident_per_year: float = 12_000.0
    non_incident_labels: dict[str, float] = _d(assistance=0.55, intervention=0.45)
    non_incident_origins: dict[str, float] = _d(initiative=0.4, appel_usager=0.45, requisition=0.15)
    no_coordinates_share: float = 0.05
    jitter_sigma_m: float = 10.0
    jitter_max_m: float = 25.0
    directed_delay_min: tuple[float, float] = (5.0, 40.0)      # minimum, exponential mean (minutes)
    independent_delay_min: tuple[float, float] = (10.0, 90.0)
    late_entry_share: float = 0.03
    late_entry_mean_days: float = 1.5
    agents: int = 450
    persons_max: int = 3


@dataclass(frozen=True)
class FineParameters:
    """Step 4: fines, driven by patrol hours."""

    fines_per_year: float = 420_000.0
    shift_weights: dict[str, float] = _d(**{"matin": 1.0, "apres-midi": 1.1, "nuit": 0.35})
    category_mix: dict[str, dict[str, float]] = field(default_factory=lambda: {
        "matin": {"parking_offence": 0.72, "traffic_offence": 0.20, "municipal_offence": 0.08},
        "apres-midi": {"parking_offence": 0.65, "traffic_offence": 0.22, "municipal_offence": 0.13},
        "nuit": {"parking_offence": 0.30, "traffic_offence": 0.25, "municipal_offence": 0.45},
    })
    natinf_weights: dict[str, float] = _d(**{
        "11300": 0.15, "11302": 0.30, "11303": 0.08, "11305": 0.30, "11306": 0.10, "11307": 0.07,
        "11203": 0.15, "11208": 0.20, "11209": 0.25, "11210": 0.15, "11211": 0.15, "11212": 0.10,
        "11401": 0.20, "11402": 0.25, "11403": 0.30, "11404": 0.10, "11405": 0.15})
    corridor_share: float = 0.5
    corridor_sigma_m: float = 12.0
    no_coordinates_share: float = 0.03
    fleet_size: int = 250_000
    fleet_zipf: float = 0.6
    fni_share: float = 0.12
    agents: int = 450


@dataclass(frozen=True)
class ReportParameters:
    """Step 5: interventions and supervision-centre operator reports."""

    intervention_share_of_logbook: float = 0.55
    routine_per_year: float = 33_000.0
    routine_labels: dict[str, float] = _d(intervention=0.6, assistance=0.4)
    operator_report_probability: float = 0.35
    spurious_operator_per_camera_day: float = 0.012
    note_pii_share: float = 0.15
    no_coordinates_share: float = 0.04
    intervention_delay_min: tuple[float, float] = (5.0, 30.0)
    operator_delay_min: tuple[float, float] = (1.0, 5.0)


@dataclass(frozen=True)
class CctvParameters:
    """Step 6: camera registry and video-analytics events."""

    cameras: int = 1600
    components: dict[str, float] = _d(centre=0.35, corridor=0.30, hotspot=0.20, bailleur=0.15)
    centre_sigma_m: float = 1200.0
    corridor_sigma_m: float = 8.0
    range_m: tuple[int, int] = (30, 80)
    dome_share: float = 0.25
    field_angles_deg: tuple[int, ...] = (60, 75, 90, 110)
    first_year: int = 2012
    in_year_share: float = 0.08
    detection: dict[str, dict[str, float]] = field(default_factory=lambda: {
        "violence": {"personne_au_sol": 0.25, "arme": 0.06, "mouvement_de_foule": 0.05},
        "robbery": {"personne_au_sol": 0.15, "arme": 0.10},
        "criminal_damage": {"depart_de_feu": 0.12, "zone_interdite": 0.05},
        "public_order": {"mouvement_de_foule": 0.30, "densite_excessive": 0.10},
        "road_safety": {"personne_au_sol": 0.20, "sens_interdit": 0.20},
        "drugs": {"zone_interdite": 0.10},
        "burglary": {"zone_interdite": 0.30},
        "vehicle_crime": {"zone_interdite": 0.08},
        "public_hygiene": {"objet_abandonne": 0.35},
        "nuisance": {"densite_excessive": 0.04},
        "theft": {"mouvement_de_foule": 0.02},
    })
    detection_delay_s: tuple[float, float] = (5.0, 60.0)    # minimum, exponential mean
    true_confidence_beta: tuple[float, float] = (9.0, 2.0)
    false_confidence_beta: tuple[float, float] = (4.0, 3.0)
    false_alarm_per_camera_day: float = 0.28
    false_alarm_heterogeneity_sd: float = 0.8
    false_alarm_types: dict[str, float] = _d(
        objet_abandonne=0.35, sens_interdit=0.25, zone_interdite=0.20, densite_excessive=0.08,
        personne_au_sol=0.07, mouvement_de_foule=0.03, depart_de_feu=0.01, arme=0.01)
    false_alarm_hours: tuple[float, ...] = HOUR_DAY
    crowd_radius_m: float = 600.0
    crowd_events_per_10k_attendance: float = 0.6            # per camera in the radius, per event
    crowd_types: dict[str, float] = _d(densite_excessive=0.6, mouvement_de_foule=0.4)


@dataclass(frozen=True)
class HospitalParameters:
    """Step 7: emergency admissions for assault injuries (Cardiff model)."""

    admission_probability: dict[str, float] = _d(violence=0.105, robbery=0.08)
    missing_hour_share: float = 0.12
    weapons: dict[str, dict[str, float]] = field(default_factory=lambda: {
        "violence": {"aucune": 0.45, "contondant": 0.15, "tranchant": 0.15, "arme_a_feu": 0.04, "autre": 0.08,
                     "inconnue": 0.13},
        "robbery": {"aucune": 0.50, "contondant": 0.10, "tranchant": 0.20, "arme_a_feu": 0.05, "autre": 0.05,
                    "inconnue": 0.10},
    })
    age_bands: dict[str, float] = _d(**{"0-17": 0.10, "18-24": 0.27, "25-34": 0.26, "35-49": 0.22,
                                         "50-64": 0.10, "65+": 0.05})
    sexes: dict[str, float] = _d(F=0.31, M=0.68, X=0.01)
    admission_delay_min: tuple[float, float] = (20.0, 120.0)


@dataclass(frozen=True)
class SocialParameters:
    """Step 8: public social-media posts."""

    noise_posts_per_year: float = 162_000.0
    geotag_share: float = 0.15
    incident_posts_mean: dict[str, float] = _d(
        violence=0.45, robbery=0.30, public_order=0.80, criminal_damage=0.25, road_safety=0.70, drugs=0.10,
        theft=0.05, nuisance=0.15, burglary=0.05, vehicle_crime=0.05, public_hygiene=0.10)
    incident_delay_mean_min: float = 40.0
    posts_per_attendee: float = 0.004
    quartier_mention_share: float = 0.55
    geotag_sigma_m: float = 250.0
    authors: int = 40_000
    author_zipf: float = 0.9
    english_share: float = 0.02


@dataclass(frozen=True)
class PlannedEventParameters:
    """Step 9: the calendar of planned events (not scaled: it is the city's calendar)."""

    league_matches: int = 19
    cup_matches: int = 3
    stadium_concerts: int = 3
    dome_concerts: int = 40
    demonstrations: int = 30
    markets: int = 45


@dataclass(frozen=True)
class StopParameters:
    """Step 12: stop and identity-check records, with a known disparity by area group (docs/stops.md)."""

    stops_per_year: float = 3_000.0
    dispatch_share: float = 0.35           # stops made on a call (reason call_for_service); the rest self-initiated
    self_reasons: dict[str, float] = _d(traffic=0.40, identity_check=0.30, suspicion=0.25, warrant=0.05)
    target_min_deprivation: float = 0.6    # zones at or above: the area group the injected disparity concerns
    daylight_excess: float = 0.5           # in daylight, target-area stops have relative intensity 1 + x (veil)
    search_rate: float = 0.2               # probability that a stop outside the target areas leads to a search
    search_ratio: float = 1.5              # target-area stops are searched search_ratio times as often
    hit_rate: float = 0.3                  # a search outside the target areas finds something
    hit_gap: float = 0.1                   # a target-area search finds something with hit_rate - hit_gap
    vehicle_search_share: float = 0.4      # searches that include the vehicle


@dataclass(frozen=True)
class SimulationParameters:
    """All parameters of a run; :func:`as_dict` is what ``truth/parameters.json`` holds."""

    incidents: IncidentParameters = field(default_factory=IncidentParameters)
    patrols: PatrolParameters = field(default_factory=PatrolParameters)
    logbook: LogbookParameters = field(default_factory=LogbookParameters)
    fines: FineParameters = field(default_factory=FineParameters)
    reports: ReportParameters = field(default_factory=ReportParameters)
    cctv: CctvParameters = field(default_factory=CctvParameters)
    hospital: HospitalParameters = field(default_factory=HospitalParameters)
    social: SocialParameters = field(default_factory=SocialParameters)
    planned: PlannedEventParameters = field(default_factory=PlannedEventParameters)
    stops: StopParameters = field(default_factory=StopParameters)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
