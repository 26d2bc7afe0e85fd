"""Every route states who may use it, and every role gets exactly that.

This walks every registered route with an anonymous visitor and a user of each role: a
new route without an access rule fails here.
"""


from datetime import time

import pytest

from sharing.access import access_for
from sharing.accounts import notifications
from sharing.accounts.models import Municipality, Role
from sharing.accounts.sso import encryption
from sharing.accounts.sso.models import SsoProvider
from sharing.catalog.categories import proposals
from sharing.catalog.imports import runner as import_runner
from sharing.catalog.imports.models import ListingImport
from sharing.catalog.wants import rules as wants
from sharing.catalog.wants.models import WantStatus
from sharing.clock import today_in_sweden, utcnow
from sharing.loans.queue import rules as queue
from sharing.loans.requests import rules as loans
from sharing.loans.requests.models import RequestKind
from sharing.loans.requests.rules import RequestDetails
from sharing.logistics.jobs import rules as transport_jobs
from sharing.logistics.jobs.rules import ManualJobDetails
from sharing.logistics.plans import rules as route_plans
from sharing.logistics.vehicles import rules as vehicles
from sharing.logistics.vehicles.models import FuelKind
from tests.conftest import Auth, csrf_token

ROLES = [None, *Role]
ANYONE = "anyone"
SIGNED_IN = "signed in"
ADMINS = {Role.MUNICIPALITY_ADMIN, Role.SYSTEM_ADMIN}

# Who may use each route, written out by hand: the test holds the app to this table, not to
# the app's own idea of its rules. A new route fails here until it is added.
EXPECTED: dict[str, object] = {
    "web.index": ANYONE, "web.set_language": ANYONE, "web.healthz": ANYONE,
    "legal.accessibility": ANYONE, "legal.privacy": ANYONE,
    "accounts.login": ANYONE, "accounts.login_code": ANYONE, "accounts.login_recovery_code": ANYONE,
    "accounts.forgot_password": ANYONE,
    "accounts.reset_password": ANYONE, "accounts.new_password": ANYONE,
    "accounts.accept_invitation": ANYONE, "accounts.join": ANYONE,
    "accounts.logout": SIGNED_IN, "accounts.account": SIGNED_IN, "accounts.change_password": SIGNED_IN,
    "accounts.end_other_sessions": SIGNED_IN, "accounts.create_token": SIGNED_IN,
    "accounts.revoke_token": SIGNED_IN, "accounts.two_step": SIGNED_IN, "accounts.two_step_off": SIGNED_IN,
    "accounts.new_recovery_codes": SIGNED_IN,
    "mail_preferences.edit": SIGNED_IN,
    # A register extract is the signed-in user's own; erasing a person is for their municipality's admins.
    "personal_data.index": SIGNED_IN, "personal_data.download_json": SIGNED_IN,
    "personal_data.download_pdf": SIGNED_IN, "personal_data.erase": ADMINS,
    "admin.index": ADMINS, "admin.settings": ADMINS, "admin.users": ADMINS, "admin.new_user": ADMINS,
    "admin.edit_user": ADMINS, "admin.reinvite_user": ADMINS, "admin.end_user_sessions": ADMINS,
    "admin.reset_two_step": ADMINS, "admin.confirm_end_user_sessions": ADMINS,
    "admin.confirm_reset_two_step": ADMINS, "admin.units": ADMINS, "admin.edit_unit": ADMINS, "admin.sites": ADMINS,
    "admin.edit_site": ADMINS, "admin.audit_trail": ADMINS, "admin.audit_trail_export": ADMINS,
    "admin.municipalities": {Role.SYSTEM_ADMIN}, "admin.new_municipality": {Role.SYSTEM_ADMIN},
    "categories.index": {Role.SYSTEM_ADMIN, Role.SUSTAINABILITY_OFFICER}, "categories.new": {Role.SYSTEM_ADMIN},
    "categories.detail": {Role.SYSTEM_ADMIN, Role.SUSTAINABILITY_OFFICER},
    "categories.add_version": {Role.SYSTEM_ADMIN},
    # Corrections of the figures: sustainability officers propose, system admins decide; both read
    # the proposals (an officer only their own: another's is not found).
    "categories.propose": {Role.SUSTAINABILITY_OFFICER},
    "categories.proposal_list": {Role.SYSTEM_ADMIN, Role.SUSTAINABILITY_OFFICER},
    "categories.proposal": {Role.SYSTEM_ADMIN, Role.SUSTAINABILITY_OFFICER},
    "categories.accept_proposal": {Role.SYSTEM_ADMIN}, "categories.decline_proposal": {Role.SYSTEM_ADMIN},
    "catalog.browse": SIGNED_IN, "catalog.detail": SIGNED_IN, "catalog.mine": {Role.FACILITY_MANAGER},
    "catalog.new": {Role.FACILITY_MANAGER}, "catalog.edit": {Role.FACILITY_MANAGER},
    "catalog.change_status": {Role.FACILITY_MANAGER},
    "catalog.confirm_withdraw": {Role.FACILITY_MANAGER}, "catalog.duplicate": {Role.FACILITY_MANAGER},
    "qr_labels.prepare": {Role.FACILITY_MANAGER}, "qr_labels.sheet": {Role.FACILITY_MANAGER},
    "imports.index": {Role.FACILITY_MANAGER}, "imports.detail": {Role.FACILITY_MANAGER},
    "imports.start": {Role.FACILITY_MANAGER}, "imports.status": {Role.FACILITY_MANAGER},
    "imports.template": {Role.FACILITY_MANAGER},
    "photos.file": SIGNED_IN, "photos.manage": {Role.FACILITY_MANAGER},
    "photos.move": {Role.FACILITY_MANAGER}, "photos.describe": {Role.FACILITY_MANAGER},
    "photos.delete": {Role.FACILITY_MANAGER},
    "api.openapi_document": ANYONE, "api.me": SIGNED_IN, "api.municipalities": SIGNED_IN,
    "api.units": SIGNED_IN, "api.sites": SIGNED_IN,
    "api.categories": SIGNED_IN, "api.find_listings": SIGNED_IN, "api.get_listing": SIGNED_IN,
    "api.create_listing": {Role.FACILITY_MANAGER}, "api.replace_listing": {Role.FACILITY_MANAGER},
    "api.set_listing_status": {Role.FACILITY_MANAGER},
    # Wanted items: every signed-in user; the want's own rules decide the rest (poster, unit, managers).
    "wants.index": SIGNED_IN, "wants.new": SIGNED_IN, "wants.detail": SIGNED_IN, "wants.edit": SIGNED_IN,
    "wants.close": SIGNED_IN,
    "api.find_wants": SIGNED_IN, "api.get_want": SIGNED_IN, "api.want_matches": SIGNED_IN,
    "api.create_want": SIGNED_IN, "api.replace_want": SIGNED_IN, "api.close_want": SIGNED_IN,
    "map.places": SIGNED_IN,
    "notifications.index": SIGNED_IN, "notifications.open_notification": SIGNED_IN,
    "notifications.read_all": SIGNED_IN, "api.list_notifications": SIGNED_IN,
    "api.listing_photos": SIGNED_IN, "api.photo_file": SIGNED_IN,
    "loans.ask": SIGNED_IN, "loans.index": SIGNED_IN, "loans.detail": SIGNED_IN, "loans.cancel": SIGNED_IN,
    "loans.confirm": SIGNED_IN, "loans.hand_over": SIGNED_IN, "loans.extend": SIGNED_IN, "loans.write": SIGNED_IN,
    "loans.transfer_document": SIGNED_IN, "loans.return_photo": SIGNED_IN,
    "auto_approval.index": {Role.FACILITY_MANAGER, Role.MUNICIPALITY_ADMIN},
    "auto_approval.remove": {Role.FACILITY_MANAGER, Role.MUNICIPALITY_ADMIN},
    "api.find_requests": SIGNED_IN, "api.get_request": SIGNED_IN, "api.create_request": SIGNED_IN,
    "api.approve_request": {Role.FACILITY_MANAGER}, "api.decline_request": {Role.FACILITY_MANAGER},
    "api.return_request": {Role.FACILITY_MANAGER}, "api.cancel_request": SIGNED_IN,
    "api.hand_over_request": SIGNED_IN, "api.confirm_request": SIGNED_IN, "api.extend_request": SIGNED_IN,
    "api.request_messages": SIGNED_IN, "api.write_request_message": SIGNED_IN,
    "api.request_return_photo": SIGNED_IN,
    "loans.approve": {Role.FACILITY_MANAGER}, "loans.decline": {Role.FACILITY_MANAGER},
    "loans.take_back": {Role.FACILITY_MANAGER},
    # The queue: every signed-in user; an entry is its user's alone (others: not found).
    "queue.index": SIGNED_IN, "queue.join": SIGNED_IN, "queue.leave": SIGNED_IN,
    # The calendar feed's page; the feed itself is for calendar apps, which cannot sign in: its
    # secret is the key, and an unknown one is not found (for everyone here).
    "calendar_feed.settings": SIGNED_IN, "calendar_feed.make": SIGNED_IN, "calendar_feed.revoke": SIGNED_IN,
    "calendar_feed.feed": ANYONE,
    "api.add_listing_photos": {Role.FACILITY_MANAGER}, "api.delete_listing_photo": {Role.FACILITY_MANAGER},
    # Single sign-on: finding, starting and finishing a sign-in are for anyone (CSRF and the
    # state guard them); the provider's settings for the municipality's administrators.
    "sso.find": ANYONE, "sso.start": ANYONE, "sso.callback": ANYONE, "sso.settings": ADMINS,
    # Reuse statistics: sustainability officers (and system admins) read every municipality's
    # figures; a reversal is confined by the ledger's rule to an entry of the user's municipality.
    "reports.dashboard": {Role.SUSTAINABILITY_OFFICER, Role.SYSTEM_ADMIN},
    "reports.entries": {Role.SUSTAINABILITY_OFFICER, Role.SYSTEM_ADMIN},
    "reports.entry": {Role.SUSTAINABILITY_OFFICER, Role.SYSTEM_ADMIN},
    "reports.reverse": {Role.SUSTAINABILITY_OFFICER, Role.SYSTEM_ADMIN},
    "reports.export": {Role.SUSTAINABILITY_OFFICER, Role.SYSTEM_ADMIN},
    "reports.methodology": SIGNED_IN,
    # Logistics: transport jobs for coordinators; vehicles for coordinators and municipality
    # administrators; whether the municipality plans jointly, for its administrators.
    "logistics.index": {Role.TRANSPORT_COORDINATOR, Role.MUNICIPALITY_ADMIN},
    "logistics.joint_planning": {Role.MUNICIPALITY_ADMIN},
    "transport_jobs.index": {Role.TRANSPORT_COORDINATOR}, "transport_jobs.new": {Role.TRANSPORT_COORDINATOR},
    "transport_jobs.detail": {Role.TRANSPORT_COORDINATOR}, "transport_jobs.notes": {Role.TRANSPORT_COORDINATOR},
    "transport_jobs.cancel": {Role.TRANSPORT_COORDINATOR},
    "transport_jobs.acknowledge": {Role.TRANSPORT_COORDINATOR},
    "transport_jobs.plan_again": {Role.TRANSPORT_COORDINATOR},
    "vehicles.index": {Role.TRANSPORT_COORDINATOR, Role.MUNICIPALITY_ADMIN},
    "vehicles.new": {Role.TRANSPORT_COORDINATOR, Role.MUNICIPALITY_ADMIN},
    "vehicles.edit": {Role.TRANSPORT_COORDINATOR, Role.MUNICIPALITY_ADMIN},
    "vehicles.set_active": {Role.TRANSPORT_COORDINATOR, Role.MUNICIPALITY_ADMIN},
    # Route plans for coordinators; the driver's day for drivers (of the vehicle's municipality).
    "route_plans.index": {Role.TRANSPORT_COORDINATOR}, "route_plans.detail": {Role.TRANSPORT_COORDINATOR},
    "route_plans.pin": {Role.TRANSPORT_COORDINATOR}, "route_plans.replan": {Role.TRANSPORT_COORDINATOR},
    "route_plans.status": {Role.TRANSPORT_COORDINATOR},
    "driver.index": {Role.DRIVER}, "driver.route": {Role.DRIVER}, "driver.done": {Role.DRIVER},
    "driver.failed": {Role.DRIVER},
    # A route's sheet: its coordinators and its drivers.
    "route_sheets.page": {Role.TRANSPORT_COORDINATOR, Role.DRIVER},
    "route_sheets.pdf": {Role.TRANSPORT_COORDINATOR, Role.DRIVER},
    "api.find_route_plans": {Role.TRANSPORT_COORDINATOR}, "api.get_route_plan": {Role.TRANSPORT_COORDINATOR},
    "api.create_route_plan": {Role.TRANSPORT_COORDINATOR}, "api.find_driver_routes": {Role.DRIVER},
    "api.report_stop_done": {Role.DRIVER}, "api.report_stop_failed": {Role.DRIVER},
    "api.find_transport_jobs": {Role.TRANSPORT_COORDINATOR}, "api.get_transport_job": {Role.TRANSPORT_COORDINATOR},
    "api.create_transport_job": {Role.TRANSPORT_COORDINATOR},
    "api.cancel_transport_job": {Role.TRANSPORT_COORDINATOR},
    "api.find_vehicles": {Role.TRANSPORT_COORDINATOR, Role.MUNICIPALITY_ADMIN},
    "api.get_vehicle": {Role.TRANSPORT_COORDINATOR, Role.MUNICIPALITY_ADMIN},
    "api.create_vehicle": {Role.TRANSPORT_COORDINATOR, Role.MUNICIPALITY_ADMIN},
    "api.replace_vehicle": {Role.TRANSPORT_COORDINATOR, Role.MUNICIPALITY_ADMIN},
    # The monthly report: one's own subscription, in one's own municipality.
    "report_subscriptions.subscribe": {Role.SUSTAINABILITY_OFFICER, Role.SYSTEM_ADMIN},
    "report_subscriptions.unsubscribe": {Role.SUSTAINABILITY_OFFICER, Role.SYSTEM_ADMIN},
    "api.report_figures": {Role.SUSTAINABILITY_OFFICER, Role.SYSTEM_ADMIN},
    "api.report_entries": {Role.SUSTAINABILITY_OFFICER, Role.SYSTEM_ADMIN},
}


def expected_allowed(endpoint: str, role: Role | None) -> bool:
    rule = EXPECTED[endpoint]
    if rule == ANYONE:
        return True
    if role is None:
        return False
    return rule == SIGNED_IN or role in rule  # type: ignore[operator]


@pytest.fixture
def world(app, factory):
    municipality = factory.municipality("Ystad", "1286")
    unit = factory.unit(municipality)
    site = factory.site(municipality)
    users = {role: factory.user(municipality, role) for role in Role}
    manager = users[Role.FACILITY_MANAGER]
    category = factory.category("Möbler", name_en="Furniture")
    listing = factory.listing(site=site, category=category, by=manager, title="Stolar")
    photo = factory.photo(listing, by=manager)
    # Another municipality's closed want: the walk meets its rules as a 404 for everyone here,
    # never as a 403 that the table would take for the route's own rule.
    poster = factory.user(unit=factory.unit(factory.municipality("Skurup", "1264")))
    want = factory.want(by=poster, words="stol")
    wants.close_want(factory.session, want=want, outcome=WantStatus.WITHDRAWN, by=poster, now=utcnow())
    # Another municipality's request, likewise: not found for everyone here.
    skurup = factory.session.get(Municipality, poster.municipality_id)
    skurup_listing = factory.listing_published(site=factory.site(skurup), quantity=2)
    request = loans.ask(factory.session, listing_id=skurup_listing.id, by=poster, now=utcnow(), details=RequestDetails(
        kind=RequestKind.BORROW, quantity=1, first_day=today_in_sweden(utcnow()), last_day=today_in_sweden(utcnow()),
        delivery_site_id=skurup_listing.site_id))
    # Another municipality's queue entry (the request above leaves too few free): not found here.
    entry = queue.join(factory.session, listing_id=skurup_listing.id, by=poster, now=utcnow(), wish=queue.Wish(
        quantity=2, first_day=today_in_sweden(utcnow()), last_day=today_in_sweden(utcnow())))
    # A provider that does not answer (nothing listens on port 9): starting there fails politely.
    provider = SsoProvider(municipality_id=municipality.id, issuer="http://127.0.0.1:9", client_id="delning",
                           client_secret_encrypted=encryption.encrypt("hemligt", key=encryption.fernet_key(
                               app.config["ENCRYPTION_KEY"])), email_domains="ystad.se")
    factory.session.add(provider)
    notification = notifications.notify(factory.session, user_id=users[Role.EMPLOYEE].id, message="Log in",
                                         url="/", now=utcnow())
    # The municipality's own vehicle and transport job (added by hand): their pages render for
    # whom the table allows (the walk may take the vehicle out of use and cancel the job).
    coordinator = users[Role.TRANSPORT_COORDINATOR]
    vehicle = vehicles.save_vehicle(factory.session, by=coordinator, now=utcnow(), details=vehicles.VehicleDetails(
        name="Skåpbilen", volume_m3=10, payload_kg=1000, depot_site_id=site.id, shift_start=time(7),
        shift_end=time(16), cost_per_km=6.5, fuel=FuelKind.DIESEL))
    job = transport_jobs.add_manual_job(factory.session, by=coordinator, now=utcnow(), details=ManualJobDetails(
        pickup_site_id=site.id, delivery_site_id=factory.site(municipality).id, day=today_in_sweden(utcnow()),
        goods="Whiteboards", volume_m3=0.5, weight_kg=30))
    plan = route_plans.plan_day(factory.session, day=job.day, by=coordinator, now=utcnow(), seconds=1,
                                iterations=50)
    factory.session.commit()
    [route] = route_plans.routes_of(factory.session, plan)
    # A checked import with no rows: the walk may start it, and it is done at once.
    # The municipality's officer's proposal: it renders for them and for system admins (who may
    # decide it during the walk; deciding it again is then refused politely).
    proposal = proposals.propose(factory.session, category=category, figures=proposals.ProposedFigures(weight_kg=20),
                                 citation="Egen vägning", url="", reason="Vägd", by=users[Role.SUSTAINABILITY_OFFICER],
                                 now=utcnow())
    factory.session.commit()
    listing_import = factory._save(ListingImport(municipality_id=municipality.id, file_name="inventarie.csv",
                                                 created_by_id=users[Role.FACILITY_MANAGER].id))
    yield {"municipality_id": municipality.id, "unit_id": unit.id, "site_id": site.id,
           "user_id": users[Role.EMPLOYEE].id, "token": "x" * 43, "token_id": 1,
           "category_id": category.id, "listing_id": listing.id, "want_id": want.id,
           "notification_id": notification.id, "import_id": listing_import.id, "file_format": "csv",
           "photo_id": photo.id, "request_id": request.id, "rule_id": 10**6, "entry_id": entry.id,
           "key": photo.key, "rendition": "card", "secret": "x" * 43, "provider_id": provider.id,
           "vehicle_id": vehicle.id, "job_id": job.id, "plan_id": plan.id, "route_id": route.route.id,
           "stop_id": route.stops[0][0].id, "proposal_id": proposal.id}, users
    assert import_runner.wait(listing_import.id, timeout=60)


def routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted((rule.methods or set()) & {"GET", "POST", "PUT", "PATCH", "DELETE"}):
            yield rule, method


def test_every_route_states_an_access_rule_and_is_in_the_table(app):
    endpoints = {rule.endpoint for rule, _ in routes(app)}
    with app.test_request_context():
        missing = sorted(endpoint for endpoint in endpoints if access_for(endpoint) is None)
    assert missing == [], f"routes without an access rule (add @allow(...)): {missing}"
    assert sorted(endpoints - EXPECTED.keys()) == [], "add the new routes to EXPECTED in this test"
    assert sorted(EXPECTED.keys() - endpoints) == [], "routes in EXPECTED that no longer exist"


def test_every_role_gets_what_the_table_says(app, world, caplog):
    values, users = world
    checked = 0
    for role in ROLES:
        client = app.test_client()
        user = users.get(role)
        if user is not None:
            assert Auth(client).login(user).status_code == 302
        token = csrf_token(client, "/")
        for rule, method in routes(app):
            url = rule.build(values, append_unknown=False)[1]
            caplog.clear()
            if method == "GET":
                response = client.get(url)
            else:
                response = client.open(url, method=method, data={"csrf_token": token})
            allowed = expected_allowed(rule.endpoint, role)
            where = f"{method} {url} as {role or 'anonymous'} (expected {'allowed' if allowed else 'refused'})"
            location = response.headers.get("Location", "")
            # No one, allowed or refused, may crash a route: a 5xx is a bug, never a refusal.
            # The error page hides the traceback; the app's log has it.
            assert response.status_code < 500, f"{where}: {response.status_code}\n{caplog.text}"
            if allowed:
                assert response.status_code not in (401, 403), where
                # A page for anyone may send people to the login page itself; others must not.
                assert EXPECTED[rule.endpoint] == ANYONE or "/login" not in location, where
            elif user is None:
                if url.startswith("/api/"):
                    assert response.status_code == 401, where
                else:
                    assert response.status_code == 302 and "/login" in location, where
            else:
                assert response.status_code == 403, where
            response.close()  # a file's response holds the file open until closed
            checked += 1
            if user is not None and rule.endpoint == "accounts.logout":
                Auth(client).login(user)
                token = csrf_token(client, "/")
    assert checked > 40


def test_admin_of_one_municipality_cannot_manage_another(client, auth, factory):
    ystad = factory.municipality("Ystad", "1286")
    skurup = factory.municipality("Skurup", "1264")
    admin = factory.user(ystad, Role.MUNICIPALITY_ADMIN)
    skurup_user = factory.user(skurup)
    skurup_site = factory.site(skurup)
    auth.login(admin)
    assert client.get(f"/admin/municipalities/{ystad.id}/users").status_code == 200
    for path in (f"/admin/municipalities/{skurup.id}/users", f"/admin/municipalities/{skurup.id}/sites",
                 f"/admin/municipalities/{skurup.id}/users/{skurup_user.id}",
                 f"/admin/municipalities/{skurup.id}/settings", f"/admin/municipalities/{skurup.id}/sign-in"):
        assert client.get(path).status_code == 403, path
    # Another municipality's record under one's own municipality's address is not found either.
    assert client.get(f"/admin/municipalities/{ystad.id}/users/{skurup_user.id}").status_code == 404
    assert client.get(f"/admin/municipalities/{ystad.id}/sites/{skurup_site.id}").status_code == 404
    token = csrf_token(client, "/")
    response = client.post(f"/admin/municipalities/{skurup.id}/users/{skurup_user.id}",
                           data={"csrf_token": token, "name": "Kapad", "roles": ["municipality_admin"], "active": "y"})
    assert response.status_code == 403


def test_system_admin_manages_every_municipality(client, auth, factory):
    ystad = factory.municipality("Ystad", "1286")
    skurup = factory.municipality("Skurup", "1264")
    auth.login(factory.user(ystad, Role.SYSTEM_ADMIN))
    assert client.get(f"/admin/municipalities/{skurup.id}/users").status_code == 200
    assert client.get("/admin/municipalities").status_code == 200
