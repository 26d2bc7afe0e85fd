"""Single sign-on: a municipality's people sign in with their employer's identity provider
(OpenID Connect: Microsoft Entra ID, or any other), configured by the municipality's
administrator. Accounts are made at the first sign-in, in the provider's municipality, with
the roles its claims map to; password login stays where the municipality wants it.

- ``models.py``: the provider's configuration, and each user's identity at it;
- ``rules.py``: which provider an address belongs to, whom it admits, provisioning, linking,
  role mapping and whether the provider's two-step verification counts;
- ``encryption.py``: the client secret, encrypted at rest;
- ``views.py``: the redirect dance (Authlib's client), and the administrator's settings page.
"""
