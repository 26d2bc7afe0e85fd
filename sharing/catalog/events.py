"""What the catalog tells the rest of the service: the names of the domain events it records.

Higher domains (loans, logistics, reports) register receivers for these names
(``sharing.events.add_receiver``); the catalog never imports them.
"""

from __future__ import annotations

# A listing was created or its details changed (payload: ``created``, ``status``; a change also
# ``changes``: {field: [before, after]} of the fields that changed, texts cut to their start).
LISTING_SAVED = "catalog.listing.saved"
# A listing moved along its lifecycle (payload: ``from``, ``to``): one name per status reached.
# Keyed by the status's value (a ListingStatus finds its own).
LISTING_STATUS = {status: f"catalog.listing.{status}"
                  for status in ("draft", "published", "reserved", "on_loan", "handed_over", "withdrawn")}
LISTING_PUBLISHED = LISTING_STATUS["published"]
LISTING_WITHDRAWN = LISTING_STATUS["withdrawn"]
# A listing's photos were added, removed, reordered or described (payload: ``change``, ``photos``).
LISTING_PHOTOS_CHANGED = "catalog.listing.photos_changed"
# Pieces passed to a new owner for good (recorded on both listings; payload: ``transfer_id``,
# ``from_listing_id``, ``to_listing_id``, ``quantity``, ``from_municipality_id``, ``to_municipality_id``).
LISTING_TRANSFERRED = "catalog.listing.transferred"
# Many listings were created at once by a spreadsheet import (subject: the import; payload:
# ``listing_ids``, ``published``). Its listings record no events of their own.
LISTINGS_IMPORTED = "catalog.listings.imported"
# Published listings met a wanted item (subject: the want; payload: ``listing_ids``).
WANT_MATCHED = "catalog.want.matched"
# A sustainability officer proposed a correction of a category's figures (subject: the
# proposal; payload: ``category_id``, ``figures``: the names of the figures proposed).
FIGURES_PROPOSED = "catalog.figures.proposed"
# A system administrator accepted it (payload: ``category_id``, ``version``: the version made
# from it) or declined it (payload: ``category_id``; the reason stays on the proposal).
FIGURES_PROPOSAL_ACCEPTED = "catalog.figures.proposal_accepted"
FIGURES_PROPOSAL_DECLINED = "catalog.figures.proposal_declined"
