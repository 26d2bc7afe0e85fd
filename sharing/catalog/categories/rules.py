"""The category tree and its versioned typical figures for a new piece (weight, volume, price, CO2e).

The tree is small (tens to a few hundred nodes), so it is ordered in Python: Swedish order
(... X, Y, Z, Å, Ä, Ö) is not something SQLite and PostgreSQL agree on.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, literal, select
from sqlmodel import Session, col

from sharing.catalog.categories.models import (
    MAX_CO2E_KG,
    MAX_PRICE_SEK,
    MAX_VOLUME_M3,
    MAX_WEIGHT_KG,
    Category,
    CategoryFactor,
    Co2eKind,
    ResourceKind,
)
from sharing.clock import utcnow
from sharing.db import UTCDateTime
from sharing.errors import DomainError
from sharing.i18n import N_
from sharing.text import slugify, swedish_sort_key
from sharing.typed import id_of

REFERENCE_FILE = Path(__file__).with_name("reference") / "categories.json"
FIGURES = ("weight_kg", "volume_m3", "new_price_sek", "co2e_new_kg")
NAME_MAX, SLUG_MAX, SOURCE_MAX = 100, 100, 500



def category_name(category: Category, locale: str | None) -> str:
    """The category's name in the reader's language: the English name in English where it has
    one, else the Swedish name (the one every category has)."""
    return name_in(locale, category.name, category.name_en)


def name_in(locale: str | None, name: str, name_en: str | None) -> str:
    """``category_name`` of a category's two names, as read without the category."""
    if locale is not None and str(locale).split("_")[0] == "en" and name_en:
        return name_en
    return name


@dataclass(frozen=True)
class CategoryNode:
    """A category in tree order: how deep it lies and the (Swedish) names from the top down to it."""

    category: Category
    depth: int
    path: tuple[str, ...]

    def label(self, locale: str | None) -> str:
        """Its name in the reader's language, indented by its depth (for a select's options)."""
        return "\u2003" * self.depth + category_name(self.category, locale)


def category_tree(session: Session) -> list[CategoryNode]:
    """Every category, each followed by its subtree; siblings by position, then Swedish name."""
    categories = list(session.scalars(select(Category)))
    children: dict[int | None, list[Category]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    nodes: list[CategoryNode] = []

    def visit(parent_id: int | None, depth: int, path: tuple[str, ...]) -> None:
        for category in sorted(children.get(parent_id, []), key=lambda c: (c.position, swedish_sort_key(c.name))):
            here = (*path, category.name)
            nodes.append(CategoryNode(category, depth, here))
            visit(category.id, depth + 1, here)

    visit(None, 0, ())
    return nodes


def category_choices(session: Session, locale: str, blank: str | None = None) -> list[tuple[object, str]]:
    """The tree as a select field's choices, indented, in the reader's language; ``blank`` first if given."""
    choices: list[tuple[object, str]] = [("", blank)] if blank is not None else []
    return choices + [(node.category.id, node.label(locale)) for node in category_tree(session)]


def descendant_ids(session: Session, category_id: int) -> set[int]:
    """The category's id and those of every category below it (empty if there is no such category)."""
    tree = select(col(Category.id)).where(col(Category.id) == category_id).cte("tree", recursive=True)
    tree = tree.union_all(select(col(Category.id)).join(tree, col(Category.parent_id) == tree.c.id))
    return set(session.scalars(select(tree.c.id)))


# Built once (every listing page asks): a category and its parents, nearest first, in one read.
_LINE = select(col(Category.id), col(Category.parent_id), literal(0).label("depth")) \
    .where(col(Category.id) == bindparam("category_id")).cte("line", recursive=True)
_LINE = _LINE.union_all(select(col(Category.id), col(Category.parent_id), _LINE.c.depth + 1)
                        .join(_LINE, col(Category.id) == _LINE.c.parent_id)
                        .where(_LINE.c.depth < 100))  # the bound guards against a cycle
_LINEAGE = select(Category).join(_LINE, col(Category.id) == _LINE.c.id).order_by(_LINE.c.depth)
_FACTORS_OF = select(CategoryFactor).where(
    col(CategoryFactor.category_id).in_(bindparam("category_ids", expanding=True)),
    col(CategoryFactor.valid_from) <= bindparam("at", type_=UTCDateTime),
).order_by(col(CategoryFactor.valid_from), col(CategoryFactor.version))


def lineage(session: Session, category_id: int) -> list[Category]:
    """The category and its parents, nearest first (empty if there is no such category)."""
    return list(session.scalars(_LINEAGE, {"category_id": category_id}))


def ancestors(session: Session, category: Category) -> list[Category]:
    """The category and its parents, nearest first."""
    return lineage(session, id_of(category)) or [category]


def current_factor(session: Session, category_id: int, at: datetime | None = None, *,
                   line: list[Category] | None = None) -> CategoryFactor | None:
    """The figures in force at ``at`` (default now): the category's own newest version that
    had taken effect by then, else its nearest ancestor's; None if no one in the line has any.
    ``line``: the category's lineage, when the caller has read it already."""
    at = at or utcnow()
    line = line if line is not None else lineage(session, category_id)
    if not line:
        return None
    newest: dict[int, CategoryFactor] = {}
    for factor in session.scalars(_FACTORS_OF, {"category_ids": [id_of(node) for node in line], "at": at}):
        newest[factor.category_id] = factor  # the last one wins: the newest in force
    return next((newest[id_of(node)] for node in line if id_of(node) in newest), None)


def current_factors(session: Session, at: datetime | None = None) -> dict[int, CategoryFactor]:
    """``current_factor`` for every category at once (for the overview): category id -> factor,
    whose ``category_id`` tells whether it is the category's own or inherited."""
    at = at or utcnow()
    own: dict[int, CategoryFactor] = {}
    rows = session.scalars(select(CategoryFactor).where(col(CategoryFactor.valid_from) <= at)
                           .order_by(col(CategoryFactor.valid_from), col(CategoryFactor.version)))
    for factor in rows:
        own[factor.category_id] = factor  # the last one wins: the newest in force
    rows_of_tree = session.execute(select(col(Category.id), col(Category.parent_id)))
    parents: dict[int, int | None] = {row.id: row.parent_id for row in rows_of_tree}
    effective: dict[int, CategoryFactor] = {}
    for category_id in parents:
        node: int | None = category_id
        for _ in range(100):
            if node is None or node in own:
                break
            node = parents.get(node)
        if node is not None and node in own:
            effective[category_id] = own[node]
    return effective


def factor_versions(session: Session, category_id: int) -> list[CategoryFactor]:
    """Every version of the category's own figures, newest first."""
    return list(session.scalars(select(CategoryFactor).where(col(CategoryFactor.category_id) == category_id)
                                .order_by(col(CategoryFactor.version).desc())))


# --- Changing the tree and its figures ---------------------------------------------------

def _unique_slug(session: Session, base: str) -> str:
    base = base[:SLUG_MAX].strip("-/") or "category"
    slug, n = base, 2
    while session.scalar(select(col(Category.id)).where(col(Category.slug) == slug)) is not None:
        suffix = f"-{n}"
        slug, n = base[:SLUG_MAX - len(suffix)] + suffix, n + 1
    return slug


def create_category(
    session: Session, *, name: str, name_en: str, parent_id: int | None, kind: str
) -> Category:
    """A new category at the end of its siblings; a subcategory has its parent's kind."""
    name, name_en = name.strip(), name_en.strip()
    if not name:
        raise DomainError(N_("Enter the category's Swedish name."), field="name")
    if not name_en:
        raise DomainError(N_("Enter the category's English name."), field="name_en")
    if len(name) > NAME_MAX or len(name_en) > NAME_MAX:
        raise DomainError(N_("A category's name has at most %(max)s characters."),
                          field="name" if len(name) > NAME_MAX else "name_en", max=NAME_MAX)
    if kind not in {k.value for k in ResourceKind}:
        raise DomainError(N_("Choose what kind of resource the category holds."), field="kind")
    parent = session.get(Category, parent_id) if parent_id is not None else None
    if parent_id is not None and parent is None:
        raise DomainError(N_("Choose an existing parent category."), field="parent_id")
    if parent is not None and parent.kind != kind:
        raise DomainError(N_("A subcategory holds the same kind of resource as the category above it."),
                          field="kind")
    siblings = list(session.scalars(select(Category).where(
        col(Category.parent_id) == parent_id if parent_id is not None else col(Category.parent_id).is_(None))))
    if any(s.name.casefold() == name.casefold() for s in siblings):
        raise DomainError(N_("There is already a category named %(name)s here."), field="name", name=name)
    segment = slugify(name)
    slug = _unique_slug(session, f"{parent.slug}/{segment}" if parent is not None else segment)
    category = Category(parent_id=parent_id, name=name, name_en=name_en, kind=kind, slug=slug,
                        position=max((s.position for s in siblings), default=-1) + 1)
    session.add(category)
    session.flush()
    return category


FIGURE_LIMITS = {"weight_kg": MAX_WEIGHT_KG, "volume_m3": MAX_VOLUME_M3, "new_price_sek": MAX_PRICE_SEK,
                 "co2e_new_kg": MAX_CO2E_KG}


def check_figures(figures: dict[str, float | None]) -> None:
    """Each figure given is a finite number from 0 to its bound (reports add them up)."""
    for field, value in figures.items():
        if value is not None and (not math.isfinite(value) or value < 0):
            raise DomainError(N_("Enter zero or a positive number."), field=field)
        if value is not None and value > FIGURE_LIMITS[field]:
            raise DomainError(N_("Enter a number from 0 to %(max)s."), field=field, max=FIGURE_LIMITS[field])


def co2e_kind_of(co2e_new_kg: float | None, co2e_kind: Co2eKind | str | None) -> str | None:
    """The kind of a CO2e figure (a new piece's impact unless told), None without a figure."""
    if co2e_new_kg is None:
        return None
    try:
        return Co2eKind(co2e_kind or Co2eKind.PRODUCTION).value
    except ValueError:
        raise DomainError(N_("Choose what the CO2e figure is."), field="co2e_kind") from None


def add_factor_version(
    session: Session, *, category: Category, weight_kg: float | None, volume_m3: float | None,
    new_price_sek: float | None, co2e_new_kg: float | None, source: str, by_user_id: int | None, now: datetime,
    co2e_kind: Co2eKind | str | None = None, proposal_id: int | None = None,
) -> CategoryFactor:
    """A new version of the category's figures, in force from ``now``; earlier versions stay as
    they are, so what was reported with them can still be traced.

    A CO2e figure is of one kind (``co2e_kind``): the impact of producing a new piece (the
    default, as EPDs give it) or a published net saving per reused piece; without a figure
    there is no kind. ``proposal_id``: the proposal it is made from, if any."""
    figures: dict[str, Any] = {"weight_kg": weight_kg, "volume_m3": volume_m3, "new_price_sek": new_price_sek,
               "co2e_new_kg": co2e_new_kg}
    check_figures(figures)
    if all(value is None for value in figures.values()):
        raise DomainError(N_("Enter at least one figure."), field="weight_kg")
    kind = co2e_kind_of(co2e_new_kg, co2e_kind)
    source = (source or "").strip()
    if not source:
        raise DomainError(N_("Name the source of the figures, or write that they are your own estimate."),
                          field="source")
    if len(source) > SOURCE_MAX:
        raise DomainError(N_("The source has at most %(max)s characters."), field="source", max=SOURCE_MAX)
    latest = session.scalars(select(CategoryFactor).where(col(CategoryFactor.category_id) == category.id)
                             .order_by(col(CategoryFactor.version).desc()).limit(1)).first()
    if latest is not None and latest.source == source and latest.co2e_kind == kind and all(
            getattr(latest, field) == value for field, value in figures.items()):
        raise DomainError(N_("These figures and source are the same as the latest version."))
    factor = CategoryFactor(category_id=id_of(category), version=(latest.version if latest else 0) + 1,
                            source=source, valid_from=now, created_by_id=by_user_id, co2e_kind=kind,
                            proposal_id=proposal_id, **figures)
    session.add(factor)
    session.flush()
    return factor


# --- The reference tree ------------------------------------------------------------------

def reference_categories(path: Path = REFERENCE_FILE) -> list[dict[str, Any]]:
    """The starting tree as written in the reference file."""
    with path.open(encoding="utf-8") as f:
        return json.load(f)["categories"]


def load_reference_categories(session: Session, *, now: datetime | None = None,
                              tree: list[dict[str, Any]] | None = None) -> dict[str, int]:
    """Add the reference categories that are missing (matched on slug), each new one with its
    figures as version 1; safe to run again. Existing categories and their figures are left alone."""
    now = now or utcnow()
    known = {c.slug: c for c in session.scalars(select(Category))}
    added = 0

    def add(nodes: list[dict[str, Any]], parent: Category | None, inherited_kind: str) -> None:
        nonlocal added
        for position, node in enumerate(nodes):
            segment = node.get("slug") or slugify(node["name"])
            slug = f"{parent.slug}/{segment}" if parent is not None else segment
            kind = node.get("kind", inherited_kind)
            category = known.get(slug)
            if category is None:
                category = Category(parent_id=parent.id if parent else None, slug=slug, name=node["name"],
                                    name_en=node["name_en"], kind=kind, position=position)
                session.add(category)
                session.flush()
                known[slug] = category
                added += 1
                if any(node.get(field) is not None for field in FIGURES):
                    add_factor_version(session, category=category, source=node.get("source") or "",
                                       by_user_id=None, now=now, co2e_kind=node.get("co2e_kind"),
                                       **{f: node.get(f) for f in FIGURES})
            add(node.get("children", []), category, kind)

    add(tree if tree is not None else reference_categories(), None, ResourceKind.THING.value)
    return {"categories": added}
