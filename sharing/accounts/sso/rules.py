"""Single sign-on's decisions: which provider an address belongs to, who a provider may admit,
whose account that is (made the first time, or linked), and what roles its claims give.

The redirect dance and the ID token's checks (signature, issuer, audience, expiry, nonce) are
Authlib's, in the views; what comes here are claims already verified.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlmodel import Session, col

from sharing import events
from sharing.accounts.auth import normalise_email, user_by_email
from sharing.accounts.models import Actor, Municipality, Role, RoleGrant, Unit, User
from sharing.accounts.sso import encryption
from sharing.accounts.sso.models import SsoIdentity, SsoProvider
from sharing.errors import DomainError, refuse_any
from sharing.events import DomainEvent
from sharing.i18n import N_
from sharing.typed import id_of

# What a provider's claims may grant: never a system administrator (they are made by their peers).
MAPPABLE_ROLES = frozenset(Role) - {Role.SYSTEM_ADMIN}
# RFC 8176 methods that are a second factor by themselves.
MFA_METHODS = frozenset({"mfa", "mca"})
REFUSED = "accounts.sso.refused"
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class SsoRefused(DomainError):
    """The provider's answer admits nobody here; the message says why, to the person signing in."""


# --- Configuration -------------------------------------------------------------------

def parse_domains(text: str) -> list[str]:
    domains = []
    for written in (d.strip() for d in re.split(r"[,\s]+", text) if d.strip()):
        domain = written.lower().lstrip("@")
        if not _DOMAIN.fullmatch(domain):  # said as written: "@@" is not an empty domain
            raise DomainError(N_("“%(domain)s” is not an e-mail domain."), field="email_domains", domain=written)
        domains.append(domain)
    if not domains:
        raise DomainError(N_("Enter at least one e-mail domain, for example kommun.se."), field="email_domains")
    return sorted(set(domains))


def check_issuer(issuer: str) -> str:
    """An issuer URL: HTTPS, or plain HTTP on this machine only (a provider started for tests)."""
    issuer = issuer.strip().rstrip("/")
    parts = urlsplit(issuer)
    local = parts.scheme == "http" and parts.hostname in LOCAL_HOSTS
    if not parts.hostname or (parts.scheme != "https" and not local) or parts.query or parts.fragment:
        raise DomainError(N_("The issuer is an https:// address, for example "
                             "https://login.microsoftonline.com/<tenant>/v2.0."), field="issuer")
    return issuer


# Each role's names as an administrator may write them, the one to show first (the reader's
# language); its code is always understood too. Without names, the codes are the names.
RoleNames = Mapping[Role, Sequence[str]]


def _folded(name: str) -> str:
    return " ".join(name.split()).casefold()


def shown_role(role: Role, names: RoleNames | None) -> str:
    return names[role][0] if names and names.get(role) else role.value


def _role_of(word: str, names: RoleNames | None) -> Role:
    known = {_folded(name): role for role, written in (names or {}).items() for name in written}
    known.update({role.value: role for role in Role})
    role = known.get(_folded(word))
    if role is None:
        mappable = ", ".join(shown_role(role, names) for role in Role if role in MAPPABLE_ROLES)
        raise DomainError(N_("“%(role)s” is not a role. Use: %(roles)s."), field="mapping", role=word.strip(),
                          roles=mappable)
    if role not in MAPPABLE_ROLES:
        raise DomainError(N_("A provider cannot make anyone a system administrator."), field="mapping")
    return role


def parse_mapping(session: Session, *, municipality_id: int, text: str,
                  role_names: RoleNames | None = None) -> list[dict[str, Any]]:
    """One rule a line: ``value: role, role`` and optionally ``; unit name``, e.g.
    ``fastighet: employee, facility_manager; Fastighetsavdelningen`` (or the roles' names,
    ``Medarbetare, Lokalförvaltare``)."""
    rules: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        value, colon, rest = line.partition(":")
        if not colon or not value.strip():
            raise DomainError(N_("Line %(line)d: write value: role, role; unit."), field="mapping", line=number)
        roles_text, _semicolon, unit_name = rest.partition(";")
        roles = sorted({_role_of(word, role_names) for word in roles_text.split(",") if word.strip()})
        unit_id = None
        if unit_name.strip():
            unit_id = session.scalar(select(col(Unit.id)).where(col(Unit.municipality_id) == municipality_id,
                                                                col(Unit.name) == unit_name.strip()))
            if unit_id is None:
                raise DomainError(N_("Line %(line)d: there is no unit named %(unit)s."), field="mapping",
                                  line=number, unit=unit_name.strip())
        rules.append({"value": value.strip(), "roles": [role.value for role in roles], "unit_id": unit_id})
    return rules


def format_mapping(session: Session, mapping: list[dict[str, Any]], role_names: RoleNames | None = None) -> str:
    names = dict(session.execute(select(col(Unit.id), col(Unit.name)).where(
        col(Unit.id).in_([rule["unit_id"] for rule in mapping if rule.get("unit_id")]))).all())
    lines = []
    for rule in mapping:
        line = f"{rule['value']}: {', '.join(shown_role(Role(role), role_names) for role in rule['roles'])}"
        if rule.get("unit_id") in names:
            line += f"; {names[rule['unit_id']]}"
        lines.append(line)
    return "\n".join(lines)


@dataclass(frozen=True)
class ProviderSettings:
    """What an administrator enters; an empty client secret keeps the stored one."""

    issuer: str
    client_id: str
    client_secret: str
    email_domains: str
    claim: str
    mapping: str
    password_login: bool
    trust_provider_mfa: bool
    mfa_acr_values: str
    enabled: bool


def provider_of(session: Session, *, municipality_id: int) -> SsoProvider | None:
    return session.scalar(select(SsoProvider).where(col(SsoProvider.municipality_id) == municipality_id))


T = TypeVar("T")


def save_provider(session: Session, *, municipality: Municipality, settings: ProviderSettings, by: Actor,
                  now: datetime, key: bytes, role_names: RoleNames | None = None) -> SsoProvider:
    """Configure (or change) the municipality's provider; the client secret is stored encrypted."""
    municipality_id = id_of(municipality)
    if by.municipality_id != municipality_id and not by.has_role(Role.SYSTEM_ADMIN):
        raise DomainError(N_("You can only configure your own municipality's sign-in."))
    provider = provider_of(session, municipality_id=municipality_id)
    problems: list[DomainError] = []

    def checked(check: Callable[[], T], otherwise: T) -> T:
        try:
            return check()
        except DomainError as error:
            problems.append(error)
            return otherwise

    issuer = checked(lambda: check_issuer(settings.issuer), "")
    client_id = settings.client_id.strip()
    if not client_id:
        problems.append(DomainError(N_("Enter the client id the provider gave."), field="client_id"))
    if not settings.client_secret and provider is None:
        problems.append(DomainError(N_("Enter the client secret the provider gave."), field="client_secret"))
    domains: list[str] = checked(lambda: parse_domains(settings.email_domains), [])
    others = session.scalars(select(SsoProvider).where(col(SsoProvider.municipality_id) != municipality_id)).all()
    taken = sorted({domain for other in others for domain in other.email_domains.split(",")} & set(domains))
    if taken:
        problems.append(DomainError(N_("%(domain)s already belongs to another municipality's sign-in."),
                                    field="email_domains", domain=taken[0]))
    claim = settings.claim.strip()
    if not re.fullmatch(r"[A-Za-z0-9_:./-]{1,100}", claim):
        problems.append(DomainError(N_("Name one claim, for example groups or roles."), field="claim"))
    mapping: list[dict[str, Any]] = checked(lambda: parse_mapping(
        session, municipality_id=municipality_id, text=settings.mapping, role_names=role_names), [])
    refuse_any(problems)
    if provider is None:
        provider = SsoProvider(municipality_id=municipality_id, issuer=issuer, client_id=client_id,
                               client_secret_encrypted="", email_domains="", created_at=now)
    provider.issuer, provider.client_id, provider.claim, provider.mapping = issuer, client_id, claim, mapping
    provider.email_domains = ",".join(domains)
    if settings.client_secret:
        provider.client_secret_encrypted = encryption.encrypt(settings.client_secret, key=key)
    provider.password_login = settings.password_login
    provider.trust_provider_mfa = settings.trust_provider_mfa
    provider.mfa_acr_values = ",".join(v.strip() for v in settings.mfa_acr_values.split(",") if v.strip())[:300]
    provider.enabled = settings.enabled
    provider.updated_at = now
    session.add(provider)
    session.flush()
    events.record(session, "accounts.sso.configured", subject_type="sso_provider", subject_id=provider.id, now=now,
                  actor_id=by.id, municipality_id=municipality_id,
                  payload={"issuer": issuer, "password_login": provider.password_login, "enabled": provider.enabled})
    return provider


# --- Finding the provider ----------------------------------------------------------------

def domain_of(email: str) -> str:
    return normalise_email(email).rpartition("@")[2]


def provider_for_email(session: Session, *, email: str) -> SsoProvider | None:
    """The enabled provider of the municipality that owns the address's domain, if any."""
    domain = domain_of(email)
    if not domain:
        return None
    for provider in session.scalars(select(SsoProvider).where(col(SsoProvider.enabled))):
        if domain in provider.email_domains.split(","):
            return provider
    return None


def password_login_allowed(session: Session, *, municipality_id: int) -> bool:
    """False where the municipality's people sign in with its provider only."""
    return not session.scalar(select(col(SsoProvider.id)).where(
        col(SsoProvider.municipality_id) == municipality_id, col(SsoProvider.enabled),
        col(SsoProvider.password_login).is_(False)))


# --- Signing in ----------------------------------------------------------------------------

def _values(claims: Mapping[str, Any], claim: str) -> list[str]:
    raw = claims.get(claim)
    if isinstance(raw, str):
        return [raw]
    if isinstance(raw, (list, tuple)):
        return [str(value) for value in raw if isinstance(value, (str, int))]
    return []


def mapped(provider: SsoProvider, claims: Mapping[str, Any]) -> tuple[frozenset[Role], int | None]:
    """The roles (always the employee's) and the unit the claims give; unknown values give nothing."""
    values = set(_values(claims, provider.claim))
    roles = {Role.EMPLOYEE}
    unit_id = None
    for rule in provider.mapping:
        if rule["value"] in values:
            roles.update(Role(role) for role in rule["roles"] if Role(role) in MAPPABLE_ROLES)
            unit_id = unit_id or rule.get("unit_id")
    return frozenset(roles), unit_id


def _managed(provider: SsoProvider) -> frozenset[Role]:
    """The roles the mapping hands out: only these does a sign-in take away again."""
    return frozenset({Role.EMPLOYEE, *(Role(role) for rule in provider.mapping for role in rule["roles"])})


def provider_vouches_for_two_step(provider: SsoProvider, claims: Mapping[str, Any]) -> bool:
    """Whether the ID token says the provider did a second factor, and the municipality trusts it."""
    if not provider.trust_provider_mfa:
        return False
    methods = set(_values(claims, "amr"))
    acr_values = {v for v in provider.mfa_acr_values.split(",") if v}
    return bool(methods & MFA_METHODS) or (claims.get("acr") in acr_values if acr_values else False)


@dataclass(frozen=True)
class SignedIn:
    user: User
    created: bool
    linked: bool
    two_step_done: bool  # the provider vouched for a second factor


def forget_refusal_details(session: Session, *, now: datetime, older_than: timedelta) -> int:
    """A refused sign-in's subject and reason (which may hold the address the provider gave) are
    blanked ``older_than`` after the refusal: the trail keeps that a sign-in was refused, and when.
    Returns how many were blanked."""
    blanked = 0
    for event in session.scalars(select(DomainEvent).where(col(DomainEvent.name) == REFUSED,
                                                           col(DomainEvent.occurred_at) < now - older_than)).all():
        if event.payload.get("subject") or event.payload.get("reason"):
            session.execute(update(DomainEvent).where(col(DomainEvent.id) == event.id)
                            .values(payload={**event.payload, "subject": "", "reason": ""}))
            blanked += 1
    return blanked


def refuse(session: Session, *, provider: SsoProvider, reason: str, now: datetime, subject: str = "") -> None:
    """Note a refused sign-in in the municipality's audit trail (the caller commits)."""
    events.record(session, REFUSED, subject_type="sso_provider", subject_id=provider.id, now=now,
                  municipality_id=provider.municipality_id, payload={"reason": reason[:200], "subject": subject[:255]})


def sign_in(session: Session, *, provider: SsoProvider, claims: Mapping[str, Any], now: datetime) -> SignedIn:
    """The account that verified claims of this provider belong to: found by the provider's
    subject, or linked by the same verified address, or made now in the provider's municipality.
    The name and the mapped roles follow the claims at every sign-in. SsoRefused otherwise."""
    subject = str(claims.get("sub") or "")
    email = normalise_email(str(claims.get("email") or ""))
    if not subject or not email:
        raise SsoRefused(N_("The sign-in gave no e-mail address. Ask your IT support to release it to the service."))
    if claims.get("email_verified") is not True:
        raise SsoRefused(N_("Your e-mail address is not verified by your organisation's sign-in."))
    if domain_of(email) not in provider.email_domains.split(","):
        raise SsoRefused(N_("%(email)s is not an address this sign-in admits."), email=email)
    identity = session.scalar(select(SsoIdentity).where(col(SsoIdentity.provider_id) == provider.id,
                                                        col(SsoIdentity.subject) == subject))
    user = session.get(User, identity.user_id) if identity is not None else user_by_email(session, email)
    if user is not None and user.municipality_id != provider.municipality_id:
        raise SsoRefused(N_("Your account belongs to another municipality. Log in as you did before."))
    if user is not None and not user.active:
        raise SsoRefused(N_("Your account is deactivated. Ask your municipality's administrator."))
    roles, unit_id = mapped(provider, claims)
    name = str(claims.get("name") or "").strip()[:150] or email.partition("@")[0]
    created = user is None
    if user is None:
        user = User(municipality_id=provider.municipality_id, email=email, name=name, unit_id=unit_id, created_at=now)
        user.role_grants = [RoleGrant(role=role.value) for role in sorted(roles)]  # type: ignore[call-arg]  # user_id: set at flush
        session.add(user)
        session.flush()
    else:
        user.name = name
        new_roles = (user.roles - _managed(provider)) | roles
        if new_roles != user.roles:
            user.role_grants = [RoleGrant(role=role.value) for role in sorted(new_roles)]  # type: ignore[call-arg]  # user_id: set at flush
        if unit_id is not None:
            user.unit_id = unit_id
    linked = identity is None
    if identity is None:
        if session.scalar(select(col(SsoIdentity.id)).where(col(SsoIdentity.provider_id) == provider.id,
                                                            col(SsoIdentity.user_id) == user.id)) is not None:
            raise SsoRefused(N_("Your account is linked to another identity at your organisation's sign-in. "
                                "Ask your municipality's administrator."))
        identity = SsoIdentity(provider_id=id_of(provider), user_id=id_of(user), subject=subject[:255], created_at=now)
    identity.last_login_at = now
    user.last_login_at = now
    session.add_all([identity, user])
    session.flush()
    name_of_event = ("accounts.sso.account_created" if created else
                     "accounts.sso.account_linked" if linked else "accounts.sso.signed_in")
    events.record(session, name_of_event, subject_type="user", subject_id=user.id, now=now, actor_id=user.id,
                  municipality_id=provider.municipality_id, payload={"roles": sorted(user.roles)})
    return SignedIn(user=user, created=created, linked=linked and not created,
                    two_step_done=provider_vouches_for_two_step(provider, claims))
