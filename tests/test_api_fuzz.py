"""The API does what its OpenAPI document says: a schema-driven fuzz run over every operation,
in-process through the app's WSGI interface, signed in with a personal API token. Any server
error, or a response the document does not describe, fails the run.

The examples are derandomized (the same on every run) and bounded, so the run is quick and a
failure reproduces."""

from __future__ import annotations

import re
from datetime import time, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from sharing.accounts.auth import create_api_token
from sharing.accounts.models import OpeningHours, Role
from sharing.clock import today_in_sweden, utcnow
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import RequestKind
from sharing.loans.requests.rules import RequestDetails
from sharing.logistics.jobs import rules as transport_jobs
from sharing.logistics.plans import rules as route_plans
from sharing.logistics.vehicles import rules as vehicles
from sharing.logistics.vehicles.models import FuelKind
from sharing.reports.ledger.models import ReuseEntry
from tests.factories import PASSWORD

EXAMPLES = 12
# Every check schemathesis has but two, which judge what the API accepts rather than whether it
# fails or answers other than it says: "schema-valid data is accepted" cannot hold where the
# domain's rules refuse what a schema cannot express (a site that is not the caller's, a period
# that ends before it starts: a documented 400 or 422); "schema-violating data is refused" takes
# as violations what is accepted by design (unknown query arguments are ignored, pydantic reads
# true as 1).
NOT_CHECKED = [positive_data_acceptance, negative_data_rejection]


@pytest.fixture
def api_token(app, db, factory) -> str:
    """A facility manager (who may write listings), transport coordinator, driver and
    sustainability officer (who reads the reuse statistics) with a token, in a municipality with a
    site (and its opening hours), a category (with figures), a published listing, a request for it,
    a wanted item, a vehicle, a transport job, the day's plan and a ledger entry,
    so small ids name real records and every kind of field is in some answer."""
    municipality = factory.municipality("Ystad", "1286")
    manager = factory.user(municipality, Role.FACILITY_MANAGER, Role.EMPLOYEE, Role.TRANSPORT_COORDINATOR,
                           Role.DRIVER, Role.SUSTAINABILITY_OFFICER,
                           unit=factory.unit(municipality))
    site = factory.site(municipality)
    db.add(OpeningHours(site_id=site.id, weekday=0, opens=time(8), closes=time(16)))
    db.commit()
    category = factory.category("Kontorsstol", name_en="Office chair", weight_kg=15, co2e_new_kg=100)
    listing = factory.listing_published(site=site, category=category, by=manager, quantity=100, lend=True)
    factory.want(by=manager, words="stol")
    now = utcnow()
    # A request of their own for their own listing (units of one municipality share too).
    loans.ask(db, listing_id=listing.id, by=manager, now=now, details=RequestDetails(
        kind=RequestKind.BORROW, quantity=1, first_day=today_in_sweden(now) + timedelta(days=1),
        last_day=today_in_sweden(now) + timedelta(days=2), delivery_site_id=site.id, message="Hej"))
    vehicles.save_vehicle(db, by=manager, now=now, details=vehicles.VehicleDetails(
        name="Skåpbilen", volume_m3=12, payload_kg=1200, depot_site_id=site.id, shift_start=time(7),
        shift_end=time(16), cost_per_km=7, fuel=FuelKind.DIESEL))
    transport_jobs.add_manual_job(db, by=manager, now=now, details=transport_jobs.ManualJobDetails(
        pickup_site_id=site.id, delivery_site_id=factory.site(municipality).id,
        day=today_in_sweden(now) + timedelta(days=1), goods="Whiteboardtavlor", volume_m3=0.7, weight_kg=30))
    # The day planned: a plan, a route and its stops for the plans' and the driver's operations
    # (between sites with no opening hours: open whatever tomorrow's weekday).
    transport_jobs.add_manual_job(db, by=manager, now=now, details=transport_jobs.ManualJobDetails(
        pickup_site_id=factory.site(municipality).id, delivery_site_id=factory.site(municipality).id,
        day=today_in_sweden(now) + timedelta(days=1), goods="Bord", volume_m3=0.5, weight_kg=20))
    route_plans.plan_day(db, day=today_in_sweden(now) + timedelta(days=1), by=manager, now=now, seconds=1,
                         iterations=50)
    # A ledger entry of this year, so the reports' answers hold one (written as the ledger's receiver would).
    today = today_in_sweden(now)
    db.add(ReuseEntry(event_id=1, kind="take_over", occurred_at=now, day=today, month=today.year * 100 + today.month,
                      listing_id=listing.id, category_id=category.id, quantity=2, from_municipality_id=municipality.id,
                      to_municipality_id=municipality.id, weight_g=30_000, waste_avoided_g=30_000,
                      purchase_avoided_sek_ore=900_000, co2e_avoided_g=100_000, factor_kind="production",
                      factor_source="EPD", displacement_permille=500))
    _, raw = create_api_token(db, user=manager, name="Fuzz", password=PASSWORD, now=now,
                              expires_at=now + timedelta(days=30), max_lifetime=timedelta(days=365))
    db.commit()
    return raw


# Hypothesis warns when an example it made (a large random body) is long to print; noise, not a finding.
@pytest.mark.filterwarnings("ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning")
def test_the_api_does_what_its_document_says(app, api_token):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {api_token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures: dict[str, str] = {}

    # Schemathesis's pytest integration (from_fixture) does not run on this pytest, and its run
    # engine passes the WSGI client an argument it does not take; so each operation gets a
    # Hypothesis test of its own, here, with data that fits the document and data that does not.
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
            def fuzz(case: schemathesis.Case) -> None:
                case.call_and_validate(headers=headers, excluded_checks=NOT_CHECKED)

            try:
                fuzz()
            except (Exception, BaseExceptionGroup) as failure:  # every operation is tried; all reported
                failures[f"{operation.label} ({mode.value})"] = str(failure)
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())


def _example_path(path: str) -> str:
    return re.sub(r"\{\w+\}", "1", path)


def test_the_edges_of_each_operation_are_as_documented(app, api_token):
    """What the fuzzing above reaches only by chance: a method the path does not have, a body
    that is not JSON, a page past the last the API serves."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token}"}
    document = client.get("/api/v1/openapi.json").get_json()

    def resolve(item: dict) -> dict:  # a reusable parameter is a reference into the components
        if "$ref" not in item:
            return item
        found = document
        for part in item["$ref"].removeprefix("#/").split("/"):
            found = found[part]
        return found

    for path, operations in document["paths"].items():
        url = "/api/v1" + _example_path(path)
        # 405 names the methods the resource allows (RFC 9110), for TRACE as for any other.
        response = client.open(url, method="TRACE", headers=headers)
        assert response.status_code == 405, (path, response.status_code)
        allowed = {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}
        assert {method.upper() for method in operations} <= allowed, (path, response.headers.get("Allow"))

        for method, operation in operations.items():
            responses = operation["responses"]
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                response = client.open(url, method=method.upper(), data="title=Stol", headers=headers,
                                       content_type="text/plain")
                assert str(response.status_code) in responses, (method, path, response.status_code)
            parameters = {p["name"]: p["schema"] for p in map(resolve, operation.get("parameters", []))
                          if p["in"] == "query"}
            for name in ("page", "per_page"):
                if name in parameters:
                    largest = parameters[name].get("maximum")
                    assert largest is not None, f"{method} {path}: '{name}' has no documented maximum"
                    assert client.get(f"{url}?{name}={largest}", headers=headers).status_code == 200
                    assert client.get(f"{url}?{name}={largest + 1}", headers=headers).status_code == 400
