"""Which notifications each user also gets by e-mail.

In-app notifications always go out; mail only for the kinds the user keeps on (all are on
until they turn some off). The kinds are declared by the domains that send them
(``add_mail_kind``, from their ``init_app``), so accounts lists them without importing any
higher domain; senders ask ``wants_mail`` before they queue a mail.
"""
