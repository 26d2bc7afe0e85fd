"""Swedish working days: not a Saturday or Sunday, nor a public holiday, nor one of the eves
offices close on (Midsummer Eve, Christmas Eve, New Year's Eve).

Our own dozen lines rather than a package: the ``holidays`` package's Swedish calendar counts
every Sunday as a holiday and leaves the eves out (they are de facto, not statutory, holidays),
so it would need as much adjusting as this takes writing; the list here is the issue's, and
its test names each day.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache


def easter_sunday(year: int) -> date:
    """Easter Sunday of the Gregorian calendar (the anonymous algorithm of Meeus, Jones and Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


@cache
def holidays(year: int) -> frozenset[date]:
    """The days off of the year besides weekends."""
    easter = easter_sunday(year)
    midsummer_eve = next(date(year, 6, d) for d in range(19, 26) if date(year, 6, d).weekday() == 4)
    return frozenset({
        date(year, 1, 1), date(year, 1, 6),  # New Year's Day, Epiphany
        easter - timedelta(days=2), easter + timedelta(days=1),  # Good Friday, Easter Monday
        date(year, 5, 1), easter + timedelta(days=39),  # First of May, Ascension Day
        date(year, 6, 6), midsummer_eve,  # National Day, Midsummer Eve (a Friday, 19-25 June)
        date(year, 12, 24), date(year, 12, 25), date(year, 12, 26), date(year, 12, 31),
    })


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in holidays(day.year)


def first_working_day(year: int, month: int) -> date:
    """The month's first working day (never later than its 7th: no run of holidays is that long)."""
    day = date(year, month, 1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day
