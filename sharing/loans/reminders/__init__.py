"""Reminders of a request's coming and missed days, each sent exactly once.

- ``rules.py``: the schedule, in Swedish days (which reminders are due at a given instant),
  and the claim that makes each go out once: a ``loan_reminder`` row per request, kind and
  day it is about (an extended loan is reminded of its new last day) under a unique
  constraint, written in the transaction that notifies and queues the mail;
- ``notices.py``: what each reminder says, and to whom;
- ``runner.py``: the ``loan-reminders`` job: marks overdue loans, then sends what is due.

Two runs at once (a job run twice, two scheduler processes) each try to claim every due
reminder; the database lets one of them, and the other sends nothing.
"""
