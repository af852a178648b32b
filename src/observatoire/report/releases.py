"""The public figures: the period's monthly releases, read only from the release archive (never the store).

Every number comes from a release's published tables (``settings.releases()``: ``release.json``) or
manifest, as published: a suppressed number is printed as its published text (``< 10``, ``masqué``), never
as a number, and suppressed numbers are never added up. A month of the period without a release is
stated as « non publié ».
"""

from __future__ import annotations

from typing import Any

from observatoire.report import charts, fr
from observatoire.report.document import chart, heading, section, table, text
from observatoire.report.period import Period, month_fr

SOURCE = "archive des publications (manifeste et tables de chaque publication mensuelle)"
NOT_PUBLISHED = "non publié"


def period_releases(archive: Any, period: Period) -> dict[str, dict[str, Any] | None]:
    """Per month of ``period``: ``{"manifest", "tables"}`` of its release, or None when it is not published."""
    published = set(archive.ids())
    return {m: ({"manifest": archive.manifest(m), "tables": archive.tables(m)} if m in published else None)
            for m in period.months}


def _columns(found: dict[str, dict[str, Any] | None]) -> list[dict[str, Any]]:
    """The published columns (groups, then the total) of the period's latest release."""
    latest = [r for r in found.values() if r is not None][-1]
    return latest["tables"]["columns"]


def publications(found: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    """Which months are published, when, from which sources, at what privacy loss and with what suppression."""
    rows = []
    for month, r in found.items():
        if r is None:
            rows.append([month_fr(month), NOT_PUBLISHED, "–", "–", "–", "–"])
            continue
        m = r["manifest"]
        s = m["suppression"]
        rows.append([month_fr(month), fr.day(m["created_at"]), ", ".join(m["sources"]["included"]),
                     fr.number(m["privacy_loss"]["epsilon"], 2), fr.integer(s["k"]),
                     f"{fr.integer(s['primary'])} + {fr.integer(s['secondary'])} sur {fr.integer(s['numbers'])}"])
    return section(
        "Publications de la période", SOURCE,
        text("Les chiffres publics sont des publications mensuelles figées : des tableaux par arrondissement et "
             "pour la ville, calculés une fois le mois clos, protégés par confidentialité différentielle (bruit "
             "entier de Laplace discret, bibliothèque OpenDP) puis rendus cohérents. Chaque nombre publié porte "
             "sa marge d'erreur à 95 % (« ± »). Un nombre inférieur au seuil k est affiché « < k » ; d'autres "
             "sont masqués (« masqué ») pour qu'aucun nombre caché ne puisse être recalculé par différence."),
        table(["mois", "publié le", "sources comptées", "ε dépensé", "seuil k",
               "nombres masqués (< k + masqués) sur publiés"], rows),
    )


def _city_cell(tables: dict[str, Any], row: str, column: str) -> dict[str, Any] | None:
    """A number of a release's city table (None when that release has no such row and column)."""
    return next((c for c in tables["city"] if c["row"] == row and c["column"] == column), None)


def _shown(release: dict[str, Any] | None, cell: dict[str, Any] | None) -> str:
    if release is None:
        return NOT_PUBLISHED
    return "–" if cell is None else fr.released(cell)


def city_series(found: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    """The city-level monthly series per category group (and the total): a chart and a table with margins."""
    if not any(found.values()):
        return section("Série mensuelle de la ville", SOURCE,
                       text("Aucun mois de la période n'est publié : il n'y a pas de série à présenter."))
    lines = [("groupe", c["code"], c["label_fr"]) for c in _columns(found) if c["code"] != "total"]
    lines += [("total", "total", "Total des faits publiés"), ("hors_zone", "total", "dont faits sans arrondissement")]
    rows, values, margins = [], {}, {}
    for row, column, label in lines:
        cells = [None if r is None else _city_cell(r["tables"], row, column) for r in found.values()]
        rows.append([label] + [_shown(r, c) for r, c in zip(found.values(), cells, strict=True)])
        if row == "groupe":
            values[label] = [None if c is None else c["value"] for c in cells]
            margins[label] = [None if c is None else c["margin_95"] for c in cells]
    uri = charts.series_with_margins([month_fr(m) for m in found], values, margins, ylabel="faits par mois")
    return section(
        "Série mensuelle de la ville", SOURCE + " : tableau « ville »",
        text("Nombre de faits enregistrés par mois et par groupe de catégories pour l'ensemble de la ville, "
             "avec la marge d'erreur à 95 % due au bruit ajouté. Les nombres masqués ne sont pas tracés."),
        chart(uri, "Faits par mois et par groupe de catégories, ville entière, avec marges d'erreur à 95 %"),
        table(["groupe"] + [month_fr(m) for m in found], rows),
    )


def zones(found: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    """Per published month, the zone table: each group's count with its margin, and the total rate per 1,000."""
    blocks: list[dict[str, Any]] = [text(
        "Par arrondissement et par mois, nombre de faits par groupe de catégories (± marge à 95 %) et taux "
        "pour 1 000 habitants de l'ensemble des faits publiés. Les mois ne sont pas additionnés : un nombre "
        "masqué n'entre dans aucune somme.")]
    for month, r in found.items():
        blocks.append(heading(month_fr(month)))
        if r is None:
            blocks.append(text(f"{month_fr(month).capitalize()} : {NOT_PUBLISHED}."))
            continue
        columns = r["tables"]["columns"]
        rows = []
        for z in r["tables"]["zones"]:
            total = z["values"]["total"]
            rate = ("–" if total["rate_per_1000"] is None else f"{fr.number(total['rate_per_1000'], 2)}{fr.NNBSP}±"
                    f"{fr.NNBSP}{fr.number(total['rate_margin_95'], 2)}")
            cells = [fr.released(z["values"][c["code"]]) for c in columns]
            rows.append([z["short_name"] or z["name"], *cells, rate])
        blocks.append(table(["arrondissement"] + [c["label_fr"] for c in columns] + ["taux pour 1 000 hab."], rows))
    return section("Par arrondissement, mois par mois", SOURCE + " : tableau « zones »", *blocks)


def budget(archive: Any, annual_budget: float, period: Period) -> dict[str, Any]:
    """The privacy budget of the period's year (a period never spans two): ε spent and left, and its curve."""
    year = str(period.start.year)
    ledger = archive.ledger(annual_budget)
    spent = next((y["epsilon_spent"] for y in ledger["years"] if y["year"] == year), 0.0)
    entries = [e for e in ledger["releases"] if e["month"].startswith(f"{year}-")]
    blocks = [text(
        "Chaque publication dépense une part du budget de confidentialité (ε) ; les publications d'une même "
        "année civile s'additionnent et ne peuvent dépasser le budget annuel : une publication qui le "
        "dépasserait est refusée. Le registre complet est public (/api/v1/public/ledger)."),
        table(["année", "publications", "ε dépensé", "ε restant", "budget annuel"],
              [[year, fr.integer(len(entries)), fr.number(spent, 2), fr.number(annual_budget - spent, 2),
                fr.number(annual_budget, 2)]])]
    if entries:
        cumulative = [float(sum(e["epsilon"] for e in entries[:i + 1])) for i in range(len(entries))]
        blocks.append(chart(charts.budget_steps([month_fr(e["month"]) for e in entries], cumulative, annual_budget,
                                                ylabel="ε"),
                            f"Budget de confidentialité dépensé en {year}, cumulé mois par mois"))
    return section("Budget de confidentialité", "registre de confidentialité de l'archive des publications", *blocks)
