"""Demo listings with varied, realistic Swedish titles; the benchmark makes many more the same way."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from sharing.accounts.models import Role, RoleGrant, Site, User
from sharing.catalog.categories.models import Category, ResourceKind
from sharing.catalog.categories.rules import current_factor, load_reference_categories
from sharing.catalog.listings import search as search
from sharing.catalog.listings.models import Condition, Listing, ListingStatus, Visibility
from sharing.catalog.wants import rules as wants
from sharing.catalog.wants.models import Want
from sharing.clock import utcnow
from sharing.typed import id_of

DEMO_MARK = "DEMO-"  # inventory numbers of demo listings start with this

# Per category (by its Swedish name): what people call such things.
ITEMS: dict[str, list[str]] = {
    "Kontorsstol": ["Kontorsstol", "Kontorsstolar", "Skrivbordsstol", "Ergonomisk kontorsstol",
                    "Kontorsstol med nackstöd"],
    "Matstol": ["Stol", "Stolar", "Matstolar", "Pinnstolar", "Stapelbara stolar", "Konferensstolar"],
    "Soffa": ["Soffa", "Tvåsitssoffa", "Tresitssoffa", "Bäddsoffa", "Hörnsoffa"],
    "Fåtölj": ["Fåtölj", "Fåtöljer", "Läsfåtölj", "Loungefåtölj"],
    "Skrivbord": ["Skrivbord", "Skrivbord med hurts", "Hörnskrivbord", "Elevbord"],
    "Höj- och sänkbart skrivbord": ["Skrivbord, höj- och sänkbart", "Höj- och sänkbart skrivbord",
                                    "Elektriskt skrivbord"],
    "Konferensbord": ["Konferensbord", "Sammanträdesbord", "Mötesbord"],
    "Matbord": ["Matbord", "Cafébord", "Klaffbord", "Runt bord"],
    "Hurts": ["Hurts", "Hurts på hjul", "Låsbar hurts"],
    "Bokhylla": ["Bokhylla", "Bokhyllor", "Hyllsektion", "Vägghylla"],
    "Skåp": ["Skåp", "Förvaringsskåp", "Garderobsskåp", "Vitrinskåp", "Låsbart skåp"],
    "Arkivskåp": ["Arkivskåp", "Dokumentskåp", "Kortsystemskåp"],
    "Bildskärm": ["Bildskärm 24 tum", "Bildskärm 27 tum", "Datorskärm", "Bildskärmar"],
    "Dator": ["Bärbar dator", "Stationär dator", "Datorer"],
    "Skrivare": ["Skrivare", "Laserskrivare", "Multifunktionsskrivare"],
    "Golvlampa": ["Golvlampa", "Läslampa", "Golvlampor"],
    "Skrivbordslampa": ["Skrivbordslampa", "Arbetslampa", "Skrivbordslampor"],
    "Gardiner": ["Gardiner", "Mörkläggningsgardiner", "Draperier"],
    "Mattor": ["Matta", "Mattor", "Lekmatta", "Entrématta"],
    "Lekredskap": ["Klätterställning", "Balansbräda", "Gymnastikmattor", "Rutschkana"],
    "Leksaker": ["Leksaker", "Byggklossar", "Dockskåp", "Pussel"],
    "Verktyg och maskiner": ["Skruvdragare", "Slagborr", "Stege", "Säckkärra", "Tryckluftskompressor"],
    "Kök och hushåll": ["Kaffebryggare", "Mikrovågsugn", "Kylskåp", "Diskmaskin", "Servis"],
    "Samlingslokal": ["Samlingssal", "Aula", "Festlokal"],
    "Mötesrum": ["Mötesrum för 8 personer", "Konferensrum", "Grupprum"],
    "Förrådsutrymme": ["Förråd", "Lagerutrymme", "Kallförråd"],
    "Idrottshall": ["Idrottshall", "Gymnastiksal", "Sporthall"],
    "Specialistkompetens": ["Energirådgivning", "Upphandlingsstöd", "GIS-kompetens", "Arkivarie"],
    "Maskin med förare": ["Lastbil med förare", "Traktor med förare", "Sopmaskin med förare"],
}
QUALITIES = ["svart", "grå", "vit", "blå", "röd", "grön", "i ek", "i björk", "i bok", "i valnöt", "i stål",
             "med armstöd", "på hjul", "stapelbar", "i trä", "med tyg", "i skinn", "från 2018", "nästan oanvänd"]
NOTES = [
    "Hämtas på plats eller levereras efter överenskommelse.",
    "Fungerar fint, lite repor.",
    "Blev över efter ombyggnaden av kontoret.",
    "Finns fler av samma modell, hör av dig.",
    "Ren och hel. Kan behöva en översyn.",
    "Står i förrådet på bottenvåningen.",
]
PLACE_NOTES = ["Bokas för dagar eller timmar.", "Projektor och whiteboard finns.", "Tillgänglig kvällar och helger."]


def generate(session: Session, *, count: int, seed: int, now: datetime) -> Iterator[Listing]:
    """``count`` published listings spread over every municipality's sites and the category tree."""
    rng = random.Random(seed)
    categories = {c.name: c for c in session.scalars(select(Category))}
    usable = [categories[name] for name in ITEMS if name in categories]
    paths = {c.id: _path_words(categories, c) for c in usable}
    factors = {id_of(c): current_factor(session, id_of(c), at=now) for c in usable}
    sites = list(session.scalars(select(Site).where(col(Site.active))))
    managers: dict[int, int] = dict(session.execute(
        select(col(User.municipality_id), func.min(col(User.id))).join(RoleGrant)
        .where(col(RoleGrant.role) == Role.FACILITY_MANAGER.value).group_by(col(User.municipality_id))).all())
    conditions = list(Condition)
    for n in range(count):
        category = rng.choice(usable)
        site = rng.choice(sites)
        thing = category.kind == ResourceKind.THING
        title = rng.choice(ITEMS[category.name])
        if thing and rng.random() < 0.7:
            title = f"{title}, {rng.choice(QUALITIES)}"
        description = rng.choice(NOTES if thing else PLACE_NOTES)
        give = thing and rng.random() < 0.6
        factor = factors[id_of(category)]
        inventory = f"{DEMO_MARK}{n + 1:06d}"
        listing = Listing(
            municipality_id=site.municipality_id, site_id=id_of(site), category_id=id_of(category),
            kind=ResourceKind(category.kind),
            status=ListingStatus.PUBLISHED.value, title=title, description=description,
            condition=rng.choice(conditions) if thing else None,
            quantity=rng.choice([1, 1, 1, 2, 4, 6, 10, 24]) if thing else 1,
            weight_kg=factor.weight_kg if thing and factor else None,
            volume_m3=factor.volume_m3 if thing and factor else None,
            inventory_number=inventory, contact_user_id=managers.get(site.municipality_id),
            lend=not give or rng.random() < 0.3, give_away=give, swap=thing and rng.random() < 0.15,
            loan_max_days=rng.choice([None, 30, 90, 365]) if thing else None,
            visibility=Visibility.PARTNERS if rng.random() < 0.9 else Visibility.OWN_MUNICIPALITY,
            created_at=now, updated_at=now, published_at=now - timedelta(minutes=count - n),
        )
        listing.search_title = search.document(title)
        listing.search_text = search.document(title, description, paths[category.id], inventory, site.locality)
        yield listing


def _path_words(categories: dict[str, Category], category: Category) -> str:
    by_id = {c.id: c for c in categories.values()}
    words: list[str] = []
    node: Category | None = category
    while node is not None:
        words += [node.name, node.name_en]
        node = by_id.get(node.parent_id) if node.parent_id else None
    return " ".join(words)


def load(session: Session, count: int = 120) -> dict[str, int]:
    """The reference categories, and demo listings unless there are some already."""
    added = load_reference_categories(session)
    if session.scalar(select(func.count()).where(col(Listing.inventory_number).like(f"{DEMO_MARK}%"))):
        return {**added, "listings": 0}
    made = list(generate(session, count=count, seed=2026, now=utcnow()))
    session.add_all(made)
    search.remember_words(session, [listing.search_text for listing in made])
    session.flush()
    return {**added, "listings": len(made)}


# What demo units need: (poster's e-mail, words, category by Swedish name or None, quantity, days left or None).
DEMO_WANTS = [
    ("medarbetare@ystad.example", "kontorsstol", "Kontorsstol", 6, 30),
    ("medarbetare@ystad.example", "whiteboard", None, 1, None),
    ("medarbetare@skurup.example", "bokhylla", "Bokhylla", 2, 45),
    ("medarbetare@skurup.example", "", "Lekredskap", 3, 60),
    ("medarbetare@trelleborg.example", "höj- och sänkbart skrivbord", None, 4, 90),
    ("hallbarhet@trelleborg.example", "konferensbord", "Konferensbord", 1, None),
]


def load_wants(session: Session) -> dict[str, int]:
    """A few open wanted items of demo users, each added once (matched on poster and words)."""
    now = utcnow()
    categories = {c.name: c.id for c in session.scalars(select(Category))}
    added = 0
    for email, words, category_name, quantity, days in DEMO_WANTS:
        poster = session.scalar(select(User).where(col(User.email) == email))
        if poster is None or poster.unit_id is None:
            continue
        category_id = categories.get(category_name) if category_name else None
        if session.scalar(select(col(Want.id)).where(col(Want.posted_by_id) == poster.id, col(Want.words) == words,
                                                col(Want.category_id) == category_id)) is not None:
            continue
        needed_by = (now + timedelta(days=days)).date() if days else None
        wants.post_want(session, details=wants.WantDetails(words=words, category_id=category_id, quantity=quantity,
                                                           needed_by=needed_by), by=poster, now=now)
        added += 1
    return {"wanted items": added}
