"""A monthly report by e-mail: a sustainability officer subscribes to the report of their
municipality (optionally of some categories), and on the first working day of each month
(``working_days.py``) the ``monthly-reports`` job mails them the previous month's report as PDF
and XLSX, exactly once per subscription and month:

- ``models.py``: the subscription, and a ``report_mailing`` row per subscription and month
  under a unique constraint, written in the transaction that queues the mail;
- ``rules.py``: subscribing, when a month's report is due, the claim;
- ``runner.py``: the job, which builds the files and queues each mail in a transaction of its own;
- ``views.py``: subscribing and unsubscribing from the dashboard.
"""
