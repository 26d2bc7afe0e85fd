"""Factories for tests: each call makes one valid object with fresh defaults, and every default can
be overridden by keyword. What it needs and is not given, it makes (a listing without a site gets a
municipality, a site, a category and a facility manager of its own).

Municipalities, units, sites, users and categories are written as rows: no rule of the service
governs how they come to be in a test. Listings, photos and wanted items go through the catalog's
own rules (``save_listing`` and ``set_status``, ``add_photos``, ``post_want``), so their invariants
hold and their domain events are recorded as in the service. Every factory commits.
"""

from __future__ import annotations

import io
import itertools
from collections import deque
from datetime import date, datetime
from typing import Any

from PIL import Image
from sqlalchemy import select
from sqlmodel import Session, col

from sharing.accounts.models import Municipality, Role, RoleGrant, Site, Unit, User
from sharing.accounts.passwords import hash_password
from sharing.catalog.categories.models import Category, CategoryFactor, ResourceKind
from sharing.catalog.categories.rules import add_factor_version
from sharing.catalog.listings import rules as listings
from sharing.catalog.listings.models import Condition, Listing, ListingDetails, ListingStatus
from sharing.catalog.photos import rules as photos
from sharing.catalog.photos.models import ListingPhoto
from sharing.catalog.wants import rules as wants
from sharing.catalog.wants.models import Want
from sharing.catalog.wants.rules import WantDetails
from sharing.clock import utcnow
from sharing.text import slugify

PASSWORD = "korrekt-häst-batteri-häftstift"


def jpeg_bytes(size: tuple[int, int] = (40, 30), color: str = "steelblue") -> bytes:
    """A small JPEG made in memory: enough for the photo rules to accept and re-encode."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


class Factory:
    """Builds and commits records with fresh defaults for each."""

    def __init__(self, session: Session, photo_store: photos.PhotoStore | None = None) -> None:
        self.session = session
        self.photo_store = photo_store
        self.n = itertools.count(1)

    # --- Organisations and people -----------------------------------------------------------

    def municipality(self, name: str | None = None, code: str | None = None) -> Municipality:
        n = next(self.n)
        name = name or f"Testkommun {n}"
        municipality = Municipality(code=code or f"{9000 + n}", name=name, slug=slugify(name))  # as the rules make it
        return self._save(municipality)

    def unit(self, municipality: Municipality | None = None, name: str | None = None) -> Unit:
        municipality = municipality or self.municipality()
        return self._save(Unit(municipality_id=municipality.id, name=name or f"Enhet {next(self.n)}"))

    def site(self, municipality: Municipality | None = None, name: str | None = None, **fields: Any) -> Site:
        municipality = municipality or self.municipality()
        values: dict[str, Any] = dict(street_address="Storgatan 1", postal_code="271 80", locality="Ystad",
                                      latitude=55.43, longitude=13.82)
        return self._save(Site(municipality_id=municipality.id, name=name or f"Fastighet {next(self.n)}",
                               **{**values, **fields}))

    def user(self, municipality: Municipality | None = None, *roles: Role, email: str | None = None,
             password: str | None = PASSWORD, active: bool = True, unit: Unit | None = None,
             name: str | None = None) -> User:
        """A user with the roles (an employee if none are given), in the unit's municipality if a unit is given."""
        if municipality is None:
            municipality = self._municipality_of(unit.municipality_id) if unit is not None else self.municipality()
        n = next(self.n)
        user = User(municipality_id=municipality.id, email=email or f"person{n}@{municipality.slug}.example",
                    name=name or f"Person {n}", password_hash=hash_password(password) if password else None,
                    active=active, unit_id=unit.id if unit is not None else None)
        user.role_grants = [RoleGrant(role=role.value) for role in (roles or (Role.EMPLOYEE,))]
        return self._save(user)

    def manager(self, municipality: Municipality | None = None, **kwargs: Any) -> User:
        """A facility manager: the one who lists things."""
        return self.user(municipality, Role.FACILITY_MANAGER, **kwargs)

    # --- Categories ---------------------------------------------------------------------------

    def category(self, name: str | None = None, *, name_en: str | None = None, parent: Category | None = None,
                 kind: str | ResourceKind | None = None, slug: str | None = None, position: int = 0,
                 weight_kg: float | None = None, volume_m3: float | None = None,
                 new_price_sek: float | None = None, co2e_new_kg: float | None = None,
                 source: str = "Testkälla", now: datetime | None = None) -> Category:
        """A category (below ``parent`` if given, of its kind), with a first version of current
        figures if any figure is given."""
        n = next(self.n)
        name = name or f"Kategori {n}"
        kind = kind or (parent.kind if parent is not None else ResourceKind.THING)
        category = self._save(Category(
            name=name, name_en=f"Category {n}" if name_en is None else name_en,
            parent_id=parent.id if parent is not None else None, kind=ResourceKind(kind).value,
            slug=slug or self._free_slug(f"{parent.slug}/{slugify(name)}" if parent else slugify(name)),
            position=position))
        figures = dict(weight_kg=weight_kg, volume_m3=volume_m3, new_price_sek=new_price_sek,
                       co2e_new_kg=co2e_new_kg)
        if any(value is not None for value in figures.values()):
            self.figures(category, source=source, now=now, **figures)
        return category

    def figures(self, category: Category, *, source: str = "Testkälla", now: datetime | None = None,
                by: User | None = None, **figures: float | None) -> CategoryFactor:
        """A new version of the category's figures, through the categories' rule (in force from ``now``)."""
        values: dict[str, float | str | None] = dict(weight_kg=None, volume_m3=None, new_price_sek=None,
                                                     co2e_new_kg=None, co2e_kind=None)
        unknown = set(figures) - set(values)
        if unknown:
            raise TypeError(f"no such figures: {sorted(unknown)}")
        factor = add_factor_version(self.session, category=category, source=source, now=now or utcnow(),
                                    by_user_id=by.id if by is not None else None, **{**values, **figures})
        self.session.commit()
        return factor

    def _free_slug(self, base: str) -> str:
        base = base or "kategori"
        slug, n = base, 2
        while self.session.scalar(select(col(Category.id)).where(col(Category.slug) == slug)) is not None:
            slug, n = f"{base}-{n}", n + 1
        return slug

    # --- Listings -----------------------------------------------------------------------------

    def listing(self, *, site: Site | None = None, category: Category | None = None, by: User | None = None,
                municipality: Municipality | None = None, published: bool = False,
                status: ListingStatus | None = None, now: datetime | None = None, **details: Any) -> Listing:
        """A listing saved by a facility manager through the catalog's rules: a draft, or published
        (``published=True``), or moved along its lifecycle to ``status`` as the rules allow.

        Any field of ``ListingDetails`` may be given; ``site``, ``category`` and ``by`` (the facility
        manager who lists it) default to new ones, all of one municipality."""
        if municipality is None:
            owner_id = site.municipality_id if site is not None else (by.municipality_id if by is not None else None)
            municipality = self._municipality_of(owner_id) if owner_id is not None else self.municipality()
        site = site or self.site(municipality)
        by = by or self.manager(municipality)
        category = category or self.category()
        kind = ResourceKind(details.pop("kind", category.kind))
        values: dict[str, Any] = dict(title=f"Annons {next(self.n)}", lend=True, quantity=1,
                                      condition=Condition.GOOD if kind == ResourceKind.THING else None)
        listing_details = ListingDetails(kind=kind, category_id=_id(category), site_id=_id(site),
                                         **{**values, **details})
        listing = listings.save_listing(self.session, details=listing_details, by=by, now=now or utcnow())
        target = status or (ListingStatus.PUBLISHED if published else ListingStatus.DRAFT)
        for step in _steps(ListingStatus.DRAFT, ListingStatus(target)):
            if step in listings.MANUAL_TARGETS and listing.status in listings.MANUAL_TARGETS:
                listings.set_status(self.session, listing=listing, to=step, by=by, now=now or utcnow())
            else:  # reserved, lent or handed over: what loans do, by the same rule
                listings.change_status(self.session, listing, step, by=by, now=now or utcnow())
        self.session.commit()
        return listing

    def listing_published(self, **kwargs: Any) -> Listing:
        """A published listing (see ``listing``)."""
        return self.listing(published=True, **kwargs)

    # --- Photos -------------------------------------------------------------------------------

    def photo(self, listing: Listing | None = None, *, image: bytes | None = None, filename: str = "foto.jpg",
              alt_text: str = "", by: User | None = None, now: datetime | None = None,
              store: photos.PhotoStore | None = None) -> ListingPhoto:
        """A photo added to the listing (a new draft if none is given) through the photo rules, its
        files written to the app's photo folder. ``image`` defaults to a small generated JPEG."""
        store = store or self.photo_store
        if store is None:
            raise RuntimeError("this factory has no photo store: make it with the app's PhotoStore")
        listing = listing or self.listing()
        by = by or self._manager_of(listing)
        [photo] = photos.add_photos(self.session, listing=listing, by=by, now=now or utcnow(), store=store,
                                    uploads=[photos.Upload(filename, io.BytesIO(image or jpeg_bytes()))],
                                    alt_text=alt_text)
        self.session.commit()
        return photo

    # --- Wanted items -------------------------------------------------------------------------

    def want(self, *, by: User | None = None, unit: Unit | None = None, municipality: Municipality | None = None,
             category: Category | None = None, words: str | None = None, quantity: int = 1,
             needed_by: date | None = None, description: str = "", now: datetime | None = None) -> Want:
        """A wanted item posted through the wants' rules by ``by`` (default: an employee of a new unit).

        Its words default to fresh ones, or to none when a category is given."""
        if by is None:
            unit = unit or self.unit(municipality)
            by = self.user(unit=unit)
        if words is None:
            words = "" if category is not None else f"Efterlyst sak {next(self.n)}"
        details = WantDetails(words=words, category_id=_id(category) if category is not None else None,
                              quantity=quantity, needed_by=needed_by, description=description)
        want = wants.post_want(self.session, details=details, by=by, now=now or utcnow())
        self.session.commit()
        return want

    # --- Helpers ------------------------------------------------------------------------------

    def _municipality_of(self, municipality_id: int) -> Municipality:
        municipality = self.session.get(Municipality, municipality_id)
        assert municipality is not None
        return municipality

    def _manager_of(self, listing: Listing) -> User:
        """Who lists it: the facility manager who made it while they still may, else a new one."""
        maker = self.session.get(User, listing.created_by_id) if listing.created_by_id else None
        if maker is not None and listings.can_manage(maker, listing):
            return maker
        return self.manager(self._municipality_of(listing.municipality_id))

    def _save(self, obj):  # type: ignore[no-untyped-def]
        self.session.add(obj)
        self.session.commit()
        return obj


def _id(obj: Any) -> int:
    assert obj.id is not None, f"{obj!r} is not saved"
    return int(obj.id)


def _steps(start: ListingStatus, target: ListingStatus) -> list[ListingStatus]:
    """The shortest way along the listing lifecycle from one status to another."""
    paths: deque[list[ListingStatus]] = deque([[start]])
    seen = {start}
    while paths:
        path = paths.popleft()
        if path[-1] == target:
            return path[1:]
        for following in sorted(listings.TRANSITIONS[path[-1]]):
            if following not in seen:
                seen.add(following)
                paths.append([*path, following])
    raise ValueError(f"no way from {start} to {target}")
