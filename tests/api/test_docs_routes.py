"""The API's documentation names every route and every parameter the app answers, as datasette tests its
documentation against its code: a route or a parameter added without its line in ``docs/api.md`` fails here.

``docs/api.md`` gives each route a heading naming it in backticks (``### `GET /api/v1/zones` ``, several per
heading allowed), exactly as the app declares its path; every query parameter of the route (its own and its
dependencies') is named in backticks in that heading's section, which runs to the next heading of the same or
a higher level. The README's API section points to that page and names the public and staff route families.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.routing import APIRoute

from observatoire.api.access import app_routes, route_keys

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "api.md"
HEADING = re.compile(r"^(#{2,6}) (.*)$", re.M)
ROUTE = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]*)`")


def documented_sections(text: str) -> dict[tuple[str, str], str]:
    """``(method, path)`` of each route a heading names, with the text of its section."""
    headings = list(HEADING.finditer(text))
    out: dict[tuple[str, str], str] = {}
    for i, h in enumerate(headings):
        level = len(h.group(1))
        end = next((n.start() for n in headings[i + 1:] if len(n.group(1)) <= level), len(text))
        for method, path in ROUTE.findall(h.group(2)):
            out[(method, path)] = text[h.start():end]
    return out


def query_parameters(route: APIRoute) -> set[str]:
    names: set[str] = set()
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        names.update(p.alias for p in dependant.query_params)
        stack.extend(dependant.dependencies)
    return names


def test_every_route_has_a_heading_in_docs_api(app: FastAPI) -> None:
    sections = documented_sections(DOC.read_text(encoding="utf-8"))
    served = {key for key, _ in route_keys(app)}
    assert sorted(f"{m} {p}" for m, p in served - set(sections)) == [], "document these routes in docs/api.md"
    assert sorted(f"{m} {p}" for m, p in set(sections) - served) == [], "docs/api.md names routes the app lacks"


def test_every_parameter_is_named_in_its_route_s_section(app: FastAPI) -> None:
    sections = documented_sections(DOC.read_text(encoding="utf-8"))
    missing = []
    for route in app_routes(app):
        if not isinstance(route, APIRoute):
            continue
        for method in sorted(route.methods):
            section = sections.get((method, route.path), "")
            missing += [f"{method} {route.path}: {name}" for name in sorted(query_parameters(route))
                        if f"`{name}`" not in section]
    assert missing == [], "name these parameters in their route's section of docs/api.md"


def test_the_documented_limits_are_the_app_s() -> None:
    from observatoire.analytics.places import MAX_GRID_CELLS
    from observatoire.api.routes.forecasts import MAX_HORIZON_DAYS
    from observatoire.api.routes.hotspots import KDE_MAX_CELLS_PER_BANDWIDTH

    text = DOC.read_text(encoding="utf-8")
    limits = text[text.index("## What a request may cost"):text.index("## Liveness")]
    assert f"1 to {MAX_HORIZON_DAYS}, and at most `train_days`" in limits
    assert f"at most {KDE_MAX_CELLS_PER_BANDWIDTH} × `cell_m`" in limits
    assert f"at most {MAX_GRID_CELLS:,} cells" in limits


def test_the_readme_points_to_the_api_page_and_the_access_policy() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The API"):]
    section = section[:section.index("\n## ", 1)]
    assert "docs/api.md" in section and "src/observatoire/governance/access.py" in section
    for family in ("/api/v1/public/releases", "/api/v1/zones", "/api/v1/hotspots", "/api/v1/forecasts",
                   "/api/v1/indicators", "/api/v1/alerts", "/api/v1/events", "/api/v1/audits/", "/api/v1/evaluations",
                   "/api/v1/register", "/api/v1/audit"):
        assert family in section, family
