"""SSMSI communal base of recorded crime (base communale de la délinquance enregistrée): a reference table.

Annual counts per commune and indicator, published by the Ministry of the
Interior's statistical service (SSMSI) under the Licence Ouverte. They are
aggregates, not events: the source is a reference dataset (``ssmsi``), and the
latest ingested file replaces the previous one (each release carries the whole
history). A count the SSMSI did not publish (``ndiff``, too small to be
released) is stored as null, never estimated; the published departmental mean
of hidden communes (``complement_info_*``) is dropped at the gate so that it is
never taken for a commune's count. Format and variants: ``docs/opendata.md``.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from collections.abc import Collection, Mapping
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from observatoire.errors import SchemaError
from observatoire.sources.base import (DOCS, ROW, Canonical, Context, Processing, RawFile, Retention, Sample,
                                       SourceDescriptor, Vocabulary)
from observatoire.sources.canonical import mask, Rejects
from observatoire.sources.formats import parse_decimal, read_csv

# Canonical raw field names (those of the 2025 edition; the commune column is read as ``CODGEO``).
FIELDS = ("CODGEO", "annee", "indicateur", "unite_de_compte", "est_diffuse", "nombre", "taux_pour_mille",
          "insee_pop", "insee_pop_millesime", "insee_log", "insee_log_millesime",
          "complement_info_nombre", "complement_info_taux")
REQUIRED = ("CODGEO", "annee", "indicateur", "est_diffuse", "nombre")
# Header spellings (folded: lower case, no accents, runs of ' ', '.', '-', '_' as '_') -> field.
HEADER_VARIANTS: Mapping[str, str] = {
    "annee": "annee",
    "indicateur": "indicateur", "classe": "indicateur",
    "unite_de_compte": "unite_de_compte",
    "est_diffuse": "est_diffuse", "valeur_publiee": "est_diffuse",
    "nombre": "nombre", "faits": "nombre",
    "taux_pour_mille": "taux_pour_mille", "tauxpourmille": "taux_pour_mille",
    "insee_pop": "insee_pop", "pop": "insee_pop",
    "insee_pop_millesime": "insee_pop_millesime", "millpop": "insee_pop_millesime",
    "insee_log": "insee_log", "log": "insee_log",
    "insee_log_millesime": "insee_log_millesime", "milllog": "insee_log_millesime",
    "complement_info_nombre": "complement_info_nombre", "complementinfoval": "complement_info_nombre",
    "complement_info_taux": "complement_info_taux", "complementinfotaux": "complement_info_taux",
}
COMMUNE_HEADER = re.compile(r"^codgeo(_\d{4})?$")
MISSING = ("NA", "N/A", "NAN", "ND", "")        # spellings of "no value" in R and spreadsheet exports

# Indicator labels (folded) -> taxonomy code; None: no code fits (the row is kept, category null).
INDICATORS: Mapping[str, str | None] = {
    "coups et blessures volontaires": "violence",
    "coups et blessures volontaires intrafamiliaux": "violence",
    "autres coups et blessures volontaires": "violence",
    "violences physiques intrafamiliales": "violence",
    "violences physiques hors cadre familial": "violence",
    "violences sexuelles": "violence",
    "vols avec armes": "robbery",
    "vols violents sans arme": "robbery",
    "vols sans violence contre des personnes": "theft",
    "cambriolages de logement": "burglary",
    "vols de vehicules": "vehicle_crime",
    "vols de vehicule": "vehicle_crime",
    "vols dans les vehicules": "vehicle_crime",
    "vols d'accessoires sur vehicules": "vehicle_crime",
    "destructions et degradations volontaires": "criminal_damage",
    "trafic de stupefiants": "drugs",
    "usage de stupefiants": "drugs",
    "usage de stupefiants (afd)": "drugs",
    "escroqueries et fraudes aux moyens de paiement": None,
}
# "unite_de_compte": what the SSMSI counts.
UNITS = ("Victime", "Victime entendue", "Infraction", "Véhicule", "Mis en cause", "Logement")
# Burglary rates are per 1,000 dwellings (insee_log); every other rate per 1,000 inhabitants.
PER_DWELLING = frozenset({"cambriolages de logement"})

SSMSI_SCHEMA = pa.schema([
    pa.field("commune_code", pa.string(), nullable=False),   # INSEE code (arrondissements have their own)
    pa.field("zone_id", pa.string()),                        # the commune when it is a zone of the city profile
    pa.field("year", pa.int16(), nullable=False),
    pa.field("indicator", pa.string(), nullable=False),      # the SSMSI label, as published
    pa.field("category", pa.string()),                       # taxonomy code, null when none fits
    pa.field("unit", pa.string()),                           # unité de compte: Victime, Infraction, Véhicule, ...
    pa.field("published", pa.bool_(), nullable=False),       # False: the SSMSI did not publish the count
    pa.field("count", pa.int64()),                           # null when not published
    pa.field("rate_per_mille", pa.float64()),                # null when not published or no denominator
    pa.field("rate_base", pa.string(), nullable=False),      # inhabitants | dwellings
    pa.field("population", pa.int64()),
    pa.field("population_year", pa.int16()),
    pa.field("dwellings", pa.float64()),
    pa.field("dwellings_year", pa.int16()),
])


class Ssmsi:
    name: ClassVar[str] = "ssmsi"
    kind: ClassVar[Literal["events", "reference"]] = "reference"
    patterns: ClassVar[tuple[str, ...]] = ("donnee-data.gouv-*.csv", "donnee-comm-data.gouv-*.csv", "ssmsi*.csv")
    needs: ClassVar[tuple[str, ...]] = ()
    descriptor: ClassVar[SourceDescriptor] = SourceDescriptor(
        label="Statistiques communales du SSMSI",
        fields={f: "data" for f in FIELDS},
        retention=Retention.no_limit("statistiques publiques agrégées par commune, sans donnée personnelle"),
        processing=Processing(
            label="Statistiques communales du SSMSI (data.gouv.fr)",
            legal_basis="Licence ouverte 2.0 (données publiques)",
            data_subjects=(),
            recipients=("cellule d'analyse", "public")),
        sample=Sample(DOCS / "samples" / "ssmsi_sample.csv"),
        doc=DOCS / "opendata.md",
    )
    vocabularies: ClassVar[Mapping[str, Collection[str] | Vocabulary]] = {
        "CODGEO": Vocabulary((), "bad_commune", "CODGEO is not an INSEE commune code"),
        "annee": Vocabulary(MISSING, "bad_year", "annee is not a year (YY or YYYY)"),
        "indicateur": tuple(INDICATORS), "unite_de_compte": UNITS,
        "est_diffuse": Vocabulary(("diff", "ndiff"), "bad_publication_flag", "est_diffuse is not diff/ndiff"),
        # numbers, with the spellings of "no value" of R and spreadsheet exports
        "nombre": Vocabulary(MISSING, "bad_count", "nombre is not a count (a non-negative integer)"),
        "taux_pour_mille": Vocabulary(MISSING, "bad_rate", "taux_pour_mille is not a non-negative number"),
        **{f: Vocabulary(MISSING, "bad_denominator", "insee_pop/insee_log or their vintages are not numbers")
           for f in ("insee_pop", "insee_log", "insee_pop_millesime", "insee_log_millesime")}}

    def read(self, path: Path, timezone: str) -> RawFile:
        raw = read_csv(path, ())
        table = raw.table.rename_columns([_field_name(c) for c in raw.table.column_names])
        names = table.column_names
        if names.count("CODGEO") != 1:
            raise SchemaError(f"{path}: expected exactly one commune column CODGEO or CODGEO_<year>")
        if len(set(names)) != len(names):
            raise SchemaError(f"{path}: two columns of the header name the same field (e.g. faits and nombre)")
        missing = [c for c in REQUIRED if c not in names]
        if missing:
            raise SchemaError(f"{path}: missing column(s) {', '.join(missing)}; expected at least "
                              f"{', '.join(REQUIRED)} (or their 2023-2024 names)")
        for c in FIELDS:
            if c not in names:
                table = table.append_column(c, pa.nulls(table.num_rows, pa.string()))
        return RawFile(table, raw.malformed_rows)

    def canonicalise(self, admitted: pa.RecordBatch, ctx: Context) -> Canonical:
        t = admitted
        rejects = Rejects(t[ROW].to_numpy())
        commune = _commune(t["CODGEO"])
        year, bad_year = _year(t["annee"])
        indicator = _map(t["indicateur"], lambda v: " ".join(v.split()))
        folded = _map(indicator, fold)
        category = _map(folded, lambda f: INDICATORS.get(f))
        flag = _map(t["est_diffuse"], lambda v: v.strip().lower() if v else None)
        published = _mask(pc.equal(flag, "diff"))
        hidden = _mask(pc.equal(flag, "ndiff"))
        count, bad_count = _non_negative(t["nombre"], integer=True)
        rate, bad_rate = _non_negative(t["taux_pour_mille"], integer=False)
        population, bad_pop = _non_negative(t["insee_pop"], integer=True)
        dwellings, bad_log = _non_negative(t["insee_log"], integer=False)
        pop_year, bad_pop_year = _year(t["insee_pop_millesime"])
        log_year, bad_log_year = _year(t["insee_log_millesime"])
        unit = _map(t["unite_de_compte"], lambda v: " ".join(v.split()) or None)

        rejects.reject(_mask(pc.is_null(commune)), "bad_commune", "CODGEO is not an INSEE commune code")
        rejects.reject(bad_year | _mask(pc.is_null(year)), "bad_year", "annee is not a year (YY or YYYY)")
        rejects.reject(_mask(pc.greater(year, ctx.ingested_at.year)), "future_year", "annee is after the ingest year")
        rejects.reject(_mask(pc.equal(pc.fill_null(indicator, ""), "")), "missing_indicator", "indicateur is empty")
        rejects.reject(~published & ~hidden, "bad_publication_flag", "est_diffuse is not diff/ndiff")
        rejects.reject(published & bad_count, "bad_count", "nombre is not a count (a non-negative integer)")
        rejects.reject(published & _mask(pc.is_null(count)), "missing_count", "est_diffuse is diff but nombre is empty")
        rejects.reject(published & bad_rate, "bad_rate", "taux_pour_mille is not a non-negative number")
        rejects.reject(bad_pop | bad_log | bad_pop_year | bad_log_year, "bad_denominator",
                       "insee_pop/insee_log or their vintages are not numbers")
        key = pc.binary_join_element_wise(pc.fill_null(commune, ""), pc.fill_null(year.cast(pa.string()), ""),
                                          pc.fill_null(folded, ""), pc.fill_null(pc.utf8_lower(unit), ""), "\x1f")
        rejects.reject(_repeated(key), "duplicate_in_file", "commune, year, indicator and unit repeat a row")

        nothing = pa.scalar(None, pa.int64())
        keep = pa.array(published)  # an unpublished row keeps no figure, whatever its cells say
        table = pa.table({
            "commune_code": commune,
            "zone_id": pc.if_else(pc.is_in(commune, pa.array(sorted(ctx.city.zone_ids), pa.string())), commune,
                                  pa.scalar(None, pa.string())),
            "year": year,
            "indicator": indicator,
            "category": category,
            "unit": unit,
            "published": keep,
            "count": pc.if_else(keep, count, nothing),
            "rate_per_mille": pc.if_else(keep, rate, pa.scalar(None, pa.float64())),
            "rate_base": _map(folded, lambda f: "dwellings" if f in PER_DWELLING else "inhabitants"),
            "population": population,
            "population_year": pop_year,
            "dwellings": dwellings,
            "dwellings_year": log_year,
        }).filter(pa.array(rejects.ok))
        return Canonical(None, table.cast(SSMSI_SCHEMA), rejects.table(self.name, ctx))


def _field_name(header: str) -> str:
    folded = re.sub(r"[\s._\-]+", "_", fold(header) or "").strip("_")
    if COMMUNE_HEADER.match(folded):
        return "CODGEO"
    return HEADER_VARIANTS.get(folded, header)   # an unknown column keeps its name: the gate refuses the file


def fold(value: str | None) -> str | None:
    """Lower case, no accents, typographic apostrophes as ``'``, single spaces."""
    if value is None:
        return None
    s = unicodedata.normalize("NFKD", value.replace("\u2019", "'"))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return " ".join(s.lower().split())


def _map(a: pa.Array, fn) -> pa.Array:
    """``fn`` applied once per distinct value (national files repeat a dozen labels millions of times)."""
    encoded = a.dictionary_encode()
    values = pa.array([fn(v) for v in encoded.dictionary.to_pylist()], pa.string())
    return values.take(encoded.indices)


def _mask(a: pa.Array) -> np.ndarray:
    return mask(pc.fill_null(a, False))


def _present(raw: pa.Array) -> pa.Array:
    """Cells spelling "no value" (``NA``, ...) as nulls."""
    cleaned = pc.utf8_trim_whitespace(raw)
    return pc.if_else(pc.is_in(pc.utf8_upper(cleaned), pa.array(MISSING)), pa.scalar(None, pa.string()), cleaned)


def _non_negative(raw: pa.Array, *, integer: bool) -> tuple[pa.Array, np.ndarray]:
    """A non-negative number (decimal comma or point); ``integer`` also refuses fractions."""
    value, bad = parse_decimal(_present(raw))
    invalid = _mask(pc.less(value, 0.0))
    if integer:
        invalid |= _mask(pc.not_equal(pc.floor(value), value)) | _mask(pc.greater(value, 2.0 ** 53))
        ok = pc.and_(pc.is_valid(value), pa.array(~invalid))
        value = pc.if_else(ok, value, pa.scalar(None, pa.float64())).cast(pa.int64())
    else:
        value = pc.if_else(pa.array(invalid), pa.scalar(None, pa.float64()), value)
    return value, bad | invalid


def _year(raw: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """``YYYY``, or ``YY`` as the 2023-2024 editions write it (``16`` = 2016); null when absent."""
    cleaned = _present(raw)
    ok = pc.fill_null(pc.match_substring_regex(cleaned, r"^(\d{2}|(19|20)\d{2})$"), False)
    digits = pc.if_else(ok, cleaned, pa.scalar(None, pa.string())).cast(pa.int32())
    year = pc.if_else(pc.less(digits, 100), pc.add(digits, 2000), digits).cast(pa.int16())
    return year, _mask(pc.is_valid(cleaned)) & ~_mask(ok)


def _commune(raw: pa.Array) -> pa.Array:
    """INSEE commune code: 5 characters, Corsica ``2A``/``2B``; a 4-digit code lost its leading zero."""
    cleaned = pc.utf8_upper(pc.utf8_trim_whitespace(raw))
    padded = pc.if_else(pc.fill_null(pc.match_substring_regex(cleaned, r"^\d{4}$"), False),
                        pc.binary_join_element_wise("0", cleaned, ""), cleaned)
    ok = pc.fill_null(pc.match_substring_regex(padded, r"^(\d{5}|2[AB]\d{3})$"), False)
    return pc.if_else(ok, padded, pa.scalar(None, pa.string()))


def _repeated(key: pa.Array) -> np.ndarray:
    """Rows whose key an earlier row already has (grouped in Arrow: national files have millions of rows)."""
    n = len(key)
    first = pa.table({"k": key, "i": pa.array(np.arange(n), pa.int64())}).group_by("k").aggregate([("i", "min")])
    out = np.ones(n, dtype=bool)
    out[first["i_min"].to_numpy()] = False
    return out
