"""The reuse statistics through /api/v1: the dashboard's figures and the ledger's entries of a
selection, for sustainability officers and system admins with API tokens; the totals are exactly
the hand-computed ones and exactly the sum of the entries, page by page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sharing.accounts.auth import create_api_token
from sharing.clock import utcnow
from tests import reports_fixture
from tests.factories import PASSWORD
from tests.reports_fixture import EXPECTED, EXPECTED_TRELLEBORG

YEAR = "from=2025-01-01&to=2025-12-31"
FIGURES = ("pieces", "shared_pieces", "waste_avoided_g", "purchase_avoided_sek_ore", "co2e_avoided_g",
           "transport_co2e_g", "net_co2e_g")


@pytest.fixture
def world(app, factory):
    return reports_fixture.build(factory, app)


def token_of(db, user) -> dict[str, str]:
    now = utcnow()
    _, raw = create_api_token(db, user=user, name="Rapporter", password=PASSWORD, now=now,
                              expires_at=now + timedelta(days=30), max_lifetime=timedelta(days=365))
    db.commit()
    return {"Authorization": f"Bearer {raw}"}


def figures_of(body: dict) -> dict[str, int]:
    return {name: body[name] for name in FIGURES}


def all_entries(api, headers, query: str, per_page: int = 2) -> list[dict]:
    found, page = [], 1
    while True:
        response = api.get(f"/api/v1/reports/entries?{query}&page={page}&per_page={per_page}", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        found += body["items"]
        if page * per_page >= body["total"]:
            assert len(found) == body["total"]
            return found
        assert 'rel="next"' in response.headers["Link"]
        page += 1


def figure(entry: dict, name: str) -> int:
    """An entry's part of a figure: its pieces are reused or shared (a short loan), by counts_as_purchase."""
    if name in ("pieces", "shared_pieces"):
        return entry["quantity"] if entry["counts_as_purchase"] == (name == "pieces") else 0
    return entry[name]


def sums(entries: list[dict]) -> dict[str, int]:
    return {name: sum(figure(entry, name) for entry in entries) for name in FIGURES}


def test_the_figures_are_the_hand_computed_totals_and_the_sum_of_the_entries(app, db, world):
    api = app.test_client()
    headers = token_of(db, world["officer"])
    body = api.get(f"/api/v1/reports/figures?{YEAR}", headers=headers).get_json()
    assert figures_of(body["totals"]) == EXPECTED and body["totals"]["entries"] == 7
    assert [m["month"] for m in body["months"]] == [202500 + n for n in range(1, 13)]
    assert sum(m["net_co2e_g"] for m in body["months"]) == EXPECTED["net_co2e_g"]
    assert sum(f["pieces"] for f in body["flows"]) == EXPECTED["pieces"]
    assert sum(f["shared_pieces"] for f in body["flows"]) == EXPECTED["shared_pieces"] == 2  # the short loan
    assert "GHG" in body["note"]
    entries = all_entries(api, headers, YEAR)
    assert len(entries) == 7 and sums(entries) == EXPECTED
    assert len({entry["id"] for entry in entries}) == 7  # pages neither repeat nor skip an entry

    trelleborg = f"{YEAR}&municipality={world['trelleborg'].id}"
    body = api.get(f"/api/v1/reports/figures?{trelleborg}", headers=headers).get_json()
    assert figures_of(body["totals"]) == EXPECTED_TRELLEBORG
    assert body["municipality_ids"] == [world["trelleborg"].id]
    assert sums(all_entries(api, headers, trelleborg, per_page=3)) == EXPECTED_TRELLEBORG

    # One figure's entries: March (the take-over, 4 chairs) and the chairs' category.
    march = all_entries(api, headers, f"{YEAR}&month=202503")
    assert [(e["kind"], e["quantity"], e["factor_source"]) for e in march] == \
        [("take_over", 4, "EPD NEPD-467-327-EN")]
    assert march[0]["event_id"] and march[0]["net_co2e_g"] == 200_000
    chairs = all_entries(api, headers, f"{YEAR}&category={world['chair'].id}")
    assert {e["category_id"] for e in chairs} == {world["chair"].id}
    furniture = api.get(f"/api/v1/reports/figures?{YEAR}&category={world['furniture'].id}", headers=headers)
    assert figures_of(furniture.get_json()["totals"]) == EXPECTED  # a category with everything below it


def test_a_system_admin_reads_them_too_and_others_are_refused(app, db, world, factory):
    api = app.test_client()
    assert api.get(f"/api/v1/reports/figures?{YEAR}",
                   headers=token_of(db, world["system_admin"])).status_code == 200
    manager = token_of(db, factory.manager(world["trelleborg"]))
    for path in ("figures", "entries"):
        assert api.get(f"/api/v1/reports/{path}?{YEAR}", headers=manager).status_code == 403
        assert api.get(f"/api/v1/reports/{path}?{YEAR}").status_code == 401


@pytest.mark.parametrize("query", [
    "from=2025-13-01", "from=20250101", "to=2024-12-31&from=2025-01-01", "from=1990-01-01&to=2025-01-01",
    "municipality=0", "municipality=x", f"unit={2**31}", "category=-1", "month=202513", "month=2025",
    "giver=0", "receiver=abc", "per_page=201", "page=0", "&".join(["municipality=1"] * 101),
])
def test_a_selection_out_of_bounds_is_a_400_problem(app, db, world, query):
    api = app.test_client()
    response = api.get(f"/api/v1/reports/entries?{query}", headers=token_of(db, world["officer"]))
    assert response.status_code == 400 and response.mimetype == "application/problem+json", query


def test_the_document_describes_both_operations(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    entries = document["paths"]["/reports/entries"]["get"]
    names = {parameter["name"] for parameter in entries["parameters"]}
    assert {"from", "to", "municipality", "unit", "category", "month", "page", "per_page"} <= names
    assert "sustainability" in entries["description"].lower()
    assert document["paths"]["/reports/figures"]["get"]["responses"]["200"]
