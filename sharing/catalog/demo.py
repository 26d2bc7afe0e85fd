"""Demo listings with varied, realistic Swedish titles; the benchmark makes many more the same way."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from sharing.accounts.models import Municipality, Role, RoleGrant, Site, User
from sharing.catalog.categories.models import Category, ResourceKind
from sharing.catalog.categories.rules import load_reference_categories
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
    "Stol, matstol": ["Stol", "Stolar", "Matstolar", "Pinnstolar", "Stapelbara stolar", "Konferensstolar"],
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
# What sets one such thing apart, per category: phrases that read the same after a singular or
# a plural, common or neuter noun ("i vitt", "med armstöd"), so no title breaks agreement.
# Categories whose items differ too much to share one (a ladder and a drill) have them per item.
QUALITIES: dict[str, list[str]] = {
    "Kontorsstol": ["i svart", "i grått tyg", "i svart skinn", "med armstöd", "med hög rygg", "med svankstöd"],
    "Stol, matstol": ["i björk", "i ek", "i bok", "i vitt", "i svart", "med armstöd", "med sits i tyg"],
    "Soffa": ["i grått tyg", "i blått tyg", "i grönt tyg", "i svart skinn", "i konstläder",
              "med avtagbar klädsel"],
    "Fåtölj": ["i grått tyg", "i brunt skinn", "i grönt ylle", "med fotpall", "med armstöd i ek"],
    "Skrivbord": ["i ek", "i björk", "i vitt", "i bokfanér", "160 × 80 cm", "140 × 70 cm"],
    "Höj- och sänkbart skrivbord": ["i vitt", "i björk", "i ek", "160 × 80 cm", "180 × 80 cm",
                                    "med kabelränna"],
    "Konferensbord": ["i ek", "i björk", "i vitt", "för 8 personer", "för 12 personer", "med eluttag"],
    "Matbord": ["i ek", "i björk", "i furu", "i vitt", "för 4 personer", "för 6 personer"],
    "Hurts": ["i vitt", "i björk", "i grått", "med tre lådor", "med pennlåda"],
    "Bokhylla": ["i vitt", "i ek", "i björk", "i furu", "bredd 80 cm", "höjd 200 cm"],
    "Skåp": ["i vitt", "i grått", "i björk", "i metall", "med hyllplan", "med lås"],
    "Arkivskåp": ["i grått", "i vitt", "i metall", "med fyra lådor", "med lås"],
    "Bildskärm": ["med HDMI", "med USB-C", "med höj- och sänkbar fot", "med inbyggda högtalare"],
    "Dator": ["med laddare", "med dockningsstation", "med Windows 11", "16 GB RAM"],
    "Skrivare": ["för A3", "med dubbelsidig utskrift", "med nätverkskort", "med extra toner"],
    "Golvlampa": ["i mässing", "i svart metall", "med dimmer", "med LED-ljuskälla"],
    "Skrivbordslampa": ["i vitt", "i svart", "med klämfäste", "med dimmer"],
    "Gardiner": ["i linne", "i bomull", "i grått", "i blått", "bredd 140 cm"],
    "Mattor": ["i grått", "i blått", "i ull", "200 × 300 cm", "170 × 240 cm"],
    "Lekredskap": ["för förskolan", "för utomhusbruk", "för inomhusbruk", "för 3–6 år"],
    "Leksaker": ["för förskolan", "i trä", "för 1–3 år", "för 3–6 år"],
    "Verktyg och maskiner": [],  # per item, below
    "Kök och hushåll": [],  # per item, below
}
ITEM_QUALITIES: dict[str, list[str]] = {
    "Skruvdragare": ["med två batterier", "med laddare", "i väska"],
    "Slagborr": ["med borrsats", "i väska", "med sladd"],
    "Stege": ["3 meter", "med fyra steg", "i aluminium"],
    "Säckkärra": ["med lufthjul", "med trappklättrare", "i aluminium"],
    "Tryckluftskompressor": ["24 liter", "50 liter", "med slang"],
    "Kaffebryggare": ["för 10 koppar", "med termoskanna", "för storkök"],
    "Mikrovågsugn": ["med grill", "i rostfritt stål", "i vitt"],
    "Kylskåp": ["med frysfack", "i rostfritt stål", "i vitt", "bänkmodell"],
    "Diskmaskin": ["för storkök", "60 cm bred", "i rostfritt stål"],
    "Servis": ["för 12 personer", "för 24 personer", "i vitt porslin"],
}
PREPOSITIONS = ("i ", "med ", "för ", "på ")
# What the listing's description says, per group of categories: sentences that suit every item
# in the group, and name no part of the item whose form could clash with it.
CATEGORY_GROUPS: dict[str, str] = {
    **{name: "furniture" for name in ("Kontorsstol", "Stol, matstol", "Soffa", "Fåtölj", "Skrivbord",
                                      "Höj- och sänkbart skrivbord", "Konferensbord", "Matbord", "Hurts",
                                      "Bokhylla", "Skåp", "Arkivskåp")},
    **{name: "it" for name in ("Bildskärm", "Dator", "Skrivare")},
    **{name: "interior" for name in ("Golvlampa", "Skrivbordslampa", "Gardiner", "Mattor")},
    **{name: "play" for name in ("Lekredskap", "Leksaker")},
    "Verktyg och maskiner": "tools", "Kök och hushåll": "kitchen",
    "Samlingslokal": "room", "Mötesrum": "room", "Förrådsutrymme": "storage", "Idrottshall": "hall",
    "Specialistkompetens": "competence", "Maskin med förare": "machine",
}
NOTES: dict[str, list[str]] = {
    "furniture": ["Blev över efter ombyggnaden av kontoret.", "Finns fler av samma modell, hör av dig.",
                  "Står i förrådet på bottenvåningen.", "Inga skador, bara vanliga bruksspår.",
                  "Hämtas på plats eller levereras efter överenskommelse."],
    "it": ["Raderad och återställd enligt kommunens rutin för IT-utrustning.", "Nätsladd följer med.",
           "Ersatt av nyare modell vid byte av arbetsplatsutrustning.",
           "Hämtas på plats eller levereras efter överenskommelse."],
    "interior": ["Blev över när lokalerna fick ny inredning.", "Finns fler av samma sort, hör av dig.",
                 "Hämtas på plats eller levereras efter överenskommelse."],
    "play": ["Från en förskola som har flyttat till nya lokaler.", "Rengjort och genomgånget inför utlåning.",
             "Passar både förskola och fritidshem."],
    "tools": ["Används bara några gånger om året, lånas gärna ut.", "Provad och fungerar.",
              "Hämtas i vaktmästeriet."],
    "kitchen": ["Från ett personalrum som har byggts om.", "Fungerar utan anmärkning.",
                "Hämtas på plats eller levereras efter överenskommelse."],
    "room": ["Bokas för timmar eller hela dagar.", "Projektor och whiteboard finns.",
             "Kan bokas kvällar och helger.", "Hörslinga finns."],
    "storage": ["Låst utrymme, nyckel hämtas i receptionen.", "Bokas per månad.", "Lastkaj i anslutning."],
    "hall": ["Kan bokas kvällar och helger.", "Omklädningsrum och duschar ingår.",
             "Ledig under skolornas lov."],
    "competence": ["Bokas i timmar efter överenskommelse med enheten.", "Kan ges på plats eller digitalt.",
                   "Passar kortare uppdrag i en annan kommun."],
    "machine": ["Bokas per timme eller dag.", "Föraren har utbildning för maskinen.", "Bränsle ingår inte."],
}


def qualities_for(category: str, item: str) -> list[str]:
    """What may set an item of this category apart in a title."""
    return ITEM_QUALITIES.get(item, QUALITIES.get(category, []))


def titled(item: str, quality: str) -> str:
    """"Bärbar dator med laddare", but "Skrivbord med hurts, i ek" and "Skrivbord, 160 × 80 cm"."""
    has_phrase = "," in item or any(f" {preposition}" in f" {item.lower()} " for preposition in PREPOSITIONS)
    if quality.startswith(PREPOSITIONS) and not has_phrase:
        return f"{item} {quality}"
    return f"{item}, {quality}"


def generate(session: Session, *, count: int, seed: int, now: datetime) -> Iterator[Listing]:
    """``count`` published listings spread over every municipality's sites and the category tree."""
    rng = random.Random(seed)
    categories = {c.name: c for c in session.scalars(select(Category))}
    usable = [categories[name] for name in ITEMS if name in categories]
    paths = {c.id: _path_words(categories, c) for c in usable}
    sites = list(session.scalars(select(Site).where(col(Site.active))))
    managers: dict[int, int] = dict(session.execute(
        select(col(User.municipality_id), func.min(col(User.id))).join(RoleGrant)
        .where(col(RoleGrant.role) == Role.FACILITY_MANAGER.value).group_by(col(User.municipality_id))).all())
    conditions = list(Condition)
    for n in range(count):
        category = rng.choice(usable)
        site = rng.choice(sites)
        thing = category.kind == ResourceKind.THING
        item = rng.choice(ITEMS[category.name])
        # A quality that repeats what the item says already is left out ("Hurts på hjul, på hjul",
        # "Låsbart skåp med lås").
        qualities = [q for q in qualities_for(category.name, item)
                     if not any(word.startswith(q.split()[-1]) for word in item.lower().split())]
        title = titled(item, rng.choice(qualities)) if qualities and rng.random() < 0.7 else item
        description = rng.choice(NOTES[CATEGORY_GROUPS[category.name]])
        give = thing and rng.random() < 0.6
        inventory = f"{DEMO_MARK}{n + 1:06d}"
        listing = Listing(
            municipality_id=site.municipality_id, site_id=id_of(site), category_id=id_of(category),
            kind=ResourceKind(category.kind),
            status=ListingStatus.PUBLISHED.value, title=title, description=description,
            condition=rng.choice(conditions) if thing else None,
            quantity=rng.choice([1, 1, 1, 2, 4, 6, 10, 24]) if thing else 1,
            inventory_number=inventory, contact_user_id=managers.get(site.municipality_id),
            lend=not give or rng.random() < 0.3, give_away=give, swap=thing and rng.random() < 0.15,
            loan_max_days=rng.choice([None, 30, 90, 365]) if thing else None,
            visibility=Visibility.PARTNERS if rng.random() < 0.9 else Visibility.OWN_MUNICIPALITY,
            created_at=now, updated_at=now, published_at=now - timedelta(minutes=count - n),
        )
        listing.search_title = search.document(title)
        listing.search_text = search.document(title, description, paths[category.id], inventory, site.locality)
        yield listing


def showcase(session: Session, *, now: datetime) -> list[Listing]:
    """The listings the guided demo (README) walks through: Ystad's 24 conference chairs."""
    chairs = session.scalar(select(Category).where(col(Category.slug) == "mobler/sittmobler/matstol"))
    site = session.scalar(select(Site).join(Municipality).where(col(Municipality.name) == "Ystad")
                          .order_by(col(Site.id)))
    manager = session.scalar(select(User).join(RoleGrant).where(
        col(User.email) == "lokalforsorjning@ystad.example", col(RoleGrant.role) == Role.FACILITY_MANAGER.value))
    if chairs is None or site is None:
        return []
    title, inventory = "Konferensstolar, stapelbara", f"{DEMO_MARK}YSTAD-STOLAR"
    description = "Stapelbara konferensstolar med klädd sits. Lånas ut eller lämnas bort, hämtas eller levereras."
    listing = Listing(
        municipality_id=site.municipality_id, site_id=id_of(site), category_id=id_of(chairs),
        kind=ResourceKind.THING, status=ListingStatus.PUBLISHED.value, title=title, description=description,
        condition=Condition.VERY_GOOD, quantity=24, inventory_number=inventory,
        contact_user_id=manager.id if manager else None, lend=True, give_away=True, loan_max_days=90,
        visibility=Visibility.PARTNERS, created_at=now, updated_at=now, published_at=now)
    listing.search_title = search.document(title)
    listing.search_text = search.document(title, description, _path_words({c.name: c for c in session.scalars(
        select(Category))}, chairs), inventory, site.locality)
    return [listing]


def _path_words(categories: dict[str, Category], category: Category) -> str:
    by_id = {c.id: c for c in categories.values()}
    words: list[str] = []
    node: Category | None = category
    while node is not None:
        words += [node.name, node.name_en]
        node = by_id.get(node.parent_id) if node.parent_id else None
    return " ".join(words)


# The demo's history (the reports' take-overs of the past year, listings published months ago)
# is reckoned with the reference figures: they are in force from before it.
REFERENCE_FIGURES_SINCE = timedelta(days=2 * 365)
# The demo listings were published one after another over this long, as a service in use
# (the guided walk's chairs last); the reports' past take-overs are of listings published before.
PUBLISHED_OVER = timedelta(days=400)


def load(session: Session, count: int = 120) -> dict[str, int]:
    """The reference categories, and demo listings unless there are some already."""
    added = load_reference_categories(session, now=utcnow() - REFERENCE_FIGURES_SINCE)
    if session.scalar(select(func.count()).where(col(Listing.inventory_number).like(f"{DEMO_MARK}%"))):
        return {**added, "listings": 0}
    now = utcnow()
    made = list(generate(session, count=count, seed=2026, now=now))
    for n, listing in enumerate(made):
        day = now - PUBLISHED_OVER * (count - n) / count
        at = min(day.replace(hour=7 + n % 8), now)  # in office hours (UTC), never later than now
        listing.published_at = listing.created_at = listing.updated_at = at
    made += showcase(session, now=now)
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
