"""A person's data across the service: their register extract (*registerutdrag*, JSON and PDF)
and their erasure by an administrator once they have left.

- ``rules.py``: the registry every domain contributes its part to, the extract and the erasure;
- ``account_records.py``: the accounts domain's own part;
- ``labels.py``: how the accounts domain's sections read, and its contribution registered;
- ``document.py``: the extract as a readable PDF;
- ``views.py``: the user's download page, and the administrator's erasure with its confirmation.
"""
