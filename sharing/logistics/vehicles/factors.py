"""The published CO2e per kilometre of a light commercial van, by what it runs on: what a
vehicle gets when its coordinator gives no figure of its own.

The figures are the UK Government's greenhouse gas conversion factors for company reporting,
2025 edition (Department for Energy Security and Net Zero, DESNZ), for *Freighting goods –
Vans – Average (up to 3.5 tonnes)*, per vehicle kilometre: the average van of its fuel, in kg
CO2e (the CO2, CH4 and N2O of the fuel burnt; for a battery electric van, of generating the
electricity it uses, at the UK grid's 2025 mix). Sweden's grid is far cleaner than the UK's, so
the electric figure is on the high side here; a coordinator who knows their vehicle's own
figure (its fuel use times the supplier's emission factor) enters it, with its source.

No such figure is published per kilometre for a van on HVO100 or biogas: those vehicles need
their own figure and its source.
"""

from __future__ import annotations

from dataclasses import dataclass

from sharing.logistics.vehicles.models import FuelKind

PUBLISHED = ("DESNZ (Storbritanniens energidepartement), Greenhouse gas reporting: conversion factors 2025, "
             "Freighting goods – Vans – Average (up to 3.5 tonnes)")


@dataclass(frozen=True)
class Factor:
    """kg CO2e per vehicle kilometre, and where the figure comes from (shown beside it)."""

    kg_per_km: float
    source: str


def _published(fuel: str, kg_per_km: float, what: str) -> Factor:
    swedish = str(kg_per_km).replace(".", ",")  # 0,25561: a Swedish decimal comma
    return Factor(kg_per_km, f"{PUBLISHED}, {fuel}: {swedish} kg CO2e per fordonskilometer ({what})")


BURNT = "CO2, CH4 och N2O från bränslet som förbränns"
DEFAULT_FACTORS: dict[FuelKind, Factor] = {
    FuelKind.DIESEL: _published("Diesel", 0.25561, BURNT),
    FuelKind.PETROL: _published("Petrol", 0.21335, BURNT),
    FuelKind.NATURAL_GAS: _published("CNG", 0.25113, BURNT),
    FuelKind.PLUG_IN_HYBRID: _published("Plug-in Hybrid Electric Vehicle", 0.14592,
                                        "bränslet som förbränns och elen som förbrukas, med brittisk elmix 2025"),
    FuelKind.ELECTRICITY: _published("Battery Electric Vehicle", 0.06976,
                                     "utsläppen från att producera elen som förbrukas, med brittisk elmix 2025; "
                                     "svensk elmix ger betydligt mindre"),
}


def default_factor(fuel: FuelKind) -> Factor | None:
    """The published figure for a van on this fuel, or None where none is published."""
    return DEFAULT_FACTORS.get(fuel)
