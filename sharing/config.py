"""Configuration, read only from environment variables (SHARING_*)."""

from __future__ import annotations

from email.utils import parseaddr
from pathlib import Path
from typing import Any, Mapping

DEVELOPMENT_ENVS = {"development", "testing"}
GEOCODERS = ("nominatim", "none")
PUBLIC_NOMINATIM = "https://nominatim.openstreetmap.org"


class ConfigError(RuntimeError):
    """The environment does not describe a runnable configuration."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(environ: Mapping[str, str], instance_path: Path) -> dict[str, Any]:
    """Build the Flask configuration from the environment.

    Outside development and testing a SECRET_KEY must be given: a default key would let
    anyone forge session cookies.
    """
    env = environ.get("SHARING_ENV", "production")
    secret_key = environ.get("SHARING_SECRET_KEY")
    if not secret_key:
        if env not in DEVELOPMENT_ENVS:
            raise ConfigError("SHARING_SECRET_KEY must be set outside development and testing.")
        secret_key = "development-only-secret-key-not-for-production"
    production = env not in DEVELOPMENT_ENVS
    secure_cookies = _bool(environ.get("SHARING_SECURE_COOKIES"), production)
    default_db = f"sqlite:///{instance_path / 'sharing.sqlite3'}"
    base_url = environ.get("SHARING_BASE_URL", "http://127.0.0.1:5000")
    mail_sender = environ.get("SHARING_MAIL_SENDER", "Delningstjänsten <noreply@delning.example>")
    return {
        "SHARING_ENV": env,
        "SECRET_KEY": secret_key,
        "SHARING_DATABASE_URL": environ.get("SHARING_DATABASE_URL", default_db),
        # The key the identity providers' client secrets are encrypted with (single sign-on);
        # the SECRET_KEY when not set. Changing it makes the stored secrets unreadable.
        "ENCRYPTION_KEY": environ.get("SHARING_ENCRYPTION_KEY") or secret_key,
        "SHARING_BASE_URL": base_url,
        # Sessions: cookies only over HTTPS in production, never readable by scripts.
        # The __Host- prefix binds the cookie to this host and path, over HTTPS only.
        "SESSION_COOKIE_NAME": "__Host-sharing_session" if secure_cookies else "sharing_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "SESSION_IDLE_MINUTES": int(environ.get("SHARING_SESSION_IDLE_MINUTES", "30")),
        "SESSION_ABSOLUTE_HOURS": int(environ.get("SHARING_SESSION_ABSOLUTE_HOURS", "12")),
        # The server-side session keeps idle time; the cookie lives its absolute time from login
        # and need not be signed and sent again with every response.
        "SESSION_REFRESH_EACH_REQUEST": False,
        # Rendered search results, kept in files all workers share (at most so many; 0 keeps
        # none). They also expire. A change to the catalog makes them stale at once in the
        # worker that made it, and within the lag in the others: each asks the database for the
        # catalog's revision at most once in so many seconds (0: with every search).
        "PAGE_CACHE_DIR": environ.get("SHARING_PAGE_CACHE_DIR", str(instance_path / "page-cache")),
        "PAGE_CACHE_ENTRIES": int(environ.get("SHARING_PAGE_CACHE_ENTRIES", "2000")),
        "PAGE_CACHE_SECONDS": int(environ.get("SHARING_PAGE_CACHE_SECONDS", "600")),
        "SEARCH_LAG_SECONDS": float(environ.get("SHARING_SEARCH_LAG_SECONDS", "1")),
        # Listing cards kept rendered in each worker's memory, under all that each shows (so a
        # change shows at once): at most so many, some 1.5 kB each (0 keeps none).
        "SEARCH_CARDS_KEPT": int(environ.get("SHARING_SEARCH_CARDS_KEPT", "20000")),
        # The map's background: an XYZ tile server only when an administrator configures one (a
        # municipality may run its own; a public one must allow the use). Empty, the default: no
        # third party sees where anyone looks; the map draws the simplified borders and localities
        # we ship (static/map). A configured tile server's origin is the one image source the
        # map page allows beside our own.
        "MAP_TILE_URL": environ.get("SHARING_MAP_TILE_URL", ""),
        "MAP_ATTRIBUTION": environ.get("SHARING_MAP_ATTRIBUTION", ""),
        **_geocoder(environ, production=production, base_url=base_url, mail_sender=mail_sender),
        # Route planning: distances by an OSRM table service when its URL is set (up to the
        # profile, e.g. http://osrm.internal:5000/table/v1/driving), else straight lines times a
        # detour factor, driven at an assumed average speed. Plans are made in a background
        # thread of the web process (off in tests: the same rule runs in the request).
        "SHARING_ROUTING_OSRM_URL": environ.get("SHARING_ROUTING_OSRM_URL", ""),
        "SHARING_ROUTING_DETOUR_FACTOR": float(environ.get("SHARING_ROUTING_DETOUR_FACTOR", "1.3")),
        "SHARING_ROUTING_SPEED_KMH": float(environ.get("SHARING_ROUTING_SPEED_KMH", "50")),
        "PLANNING_IN_BACKGROUND": True,
        "MAX_CONTENT_LENGTH": int(environ.get("SHARING_MAX_UPLOAD_BYTES", str(16 * 1024 * 1024))),
        # Photos of listings: where their files live, and how large one upload may be. A request
        # that carries photos may hold a listing's worth of them, whatever MAX_CONTENT_LENGTH says.
        # SQLite only: how long a write waits for another's to end before the user is asked to retry.
        "SHARING_SQLITE_BUSY_SECONDS": float(environ.get("SHARING_SQLITE_BUSY_SECONDS", "10")),
        "SHARING_PHOTO_DIR": environ.get("SHARING_PHOTO_DIR", str(instance_path / "photos")),
        "SHARING_PHOTO_MAX_BYTES": int(environ.get("SHARING_PHOTO_MAX_BYTES", str(10 * 1024 * 1024))),
        "SHARING_PHOTO_MAX_PIXELS": int(environ.get("SHARING_PHOTO_MAX_PIXELS", "8500000")),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "BABEL_DEFAULT_LOCALE": "sv",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
        "LANGUAGES": ("sv", "en"),
        # Mail: "smtp" sends; "outbox" writes .eml files a developer can read.
        "MAIL_BACKEND": environ.get("SHARING_MAIL_BACKEND", "smtp" if production else "outbox"),
        "MAIL_OUTBOX_DIR": environ.get("SHARING_MAIL_OUTBOX_DIR", str(instance_path / "outbox")),
        "MAIL_SERVER": environ.get("SHARING_MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(environ.get("SHARING_MAIL_PORT", "25")),
        "MAIL_USERNAME": environ.get("SHARING_MAIL_USERNAME") or None,
        "MAIL_PASSWORD": environ.get("SHARING_MAIL_PASSWORD") or None,
        "MAIL_STARTTLS": _bool(environ.get("SHARING_MAIL_STARTTLS"), False),
        "MAIL_SENDER": mail_sender,
        # Login throttling: failed attempts per account from one address, per account from
        # anywhere (but an address the account signed in from within KNOWN_ADDRESS_DAYS),
        # and per address, within the window.
        "LOGIN_MAX_FAILURES": int(environ.get("SHARING_LOGIN_MAX_FAILURES", "5")),
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": int(environ.get("SHARING_LOGIN_MAX_FAILURES_PER_ACCOUNT", "20")),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": int(environ.get("SHARING_LOGIN_MAX_FAILURES_PER_ADDRESS", "50")),
        "LOGIN_WINDOW_MINUTES": int(environ.get("SHARING_LOGIN_WINDOW_MINUTES", "15")),
        "LOGIN_KNOWN_ADDRESS_DAYS": int(environ.get("SHARING_LOGIN_KNOWN_ADDRESS_DAYS", "90")),
        "API_TOKEN_MAX_DAYS": int(environ.get("SHARING_API_TOKEN_MAX_DAYS", "365")),
        # Reuse reports: a loan this many days long or longer counts as a purchase avoided (0:
        # every loan); the share of reuses that replace a new purchase, by which a new piece's
        # production impact is multiplied (a published net saving is used as it stands).
        "REUSE_LOAN_MIN_DAYS": int(environ.get("SHARING_REUSE_LOAN_MIN_DAYS", "90")),
        "REUSE_DISPLACEMENT_RATE": float(environ.get("SHARING_REUSE_DISPLACEMENT_RATE", "0.5")),
        "PASSWORD_RESET_HOURS": int(environ.get("SHARING_PASSWORD_RESET_HOURS", "1")),
        "INVITATION_DAYS": int(environ.get("SHARING_INVITATION_DAYS", "7")),
        # Number of proxies in front of the app whose X-Forwarded-* headers are trusted.
        "TRUSTED_PROXIES": int(environ.get("SHARING_TRUSTED_PROXIES", "0")),
        "LOG_LEVEL": environ.get("SHARING_LOG_LEVEL", "INFO"),
        # Tests only: every periodic job's period and lease, multiplied (0.025: a minute's job
        # runs every 1.5 s), so several schedulers can be watched at work in seconds.
        "JOB_PERIOD_SCALE": float(environ.get("SHARING_JOB_PERIOD_SCALE", "1")),
        # Roles that must use two-step verification; by default the administrators in production.
        "MFA_REQUIRED_ROLES": tuple(
            role.strip() for role in environ.get(
                "SHARING_MFA_REQUIRED_ROLES", "municipality_admin,system_admin" if production else ""
            ).split(",") if role.strip()
        ),
    }


def _geocoder(environ: Mapping[str, str], *, production: bool, base_url: str, mail_sender: str) -> dict[str, Any]:
    """Where site addresses are geocoded. In production OpenStreetMap's Nominatim by default (its
    usage policy: an identifying user agent with a contact, at most one request a second); in
    development and testing none, so that nothing waits on a network it may not have. Whatever
    the geocoder, an address it does not answer for is placed at its locality, approximately."""
    geocoder = environ.get("SHARING_GEOCODER", "nominatim" if production else "none").strip().lower()
    if geocoder not in GEOCODERS:
        raise ConfigError(f"SHARING_GEOCODER is one of {', '.join(GEOCODERS)}, not {geocoder!r}.")
    url = environ.get("SHARING_GEOCODER_URL", PUBLIC_NOMINATIM).strip()
    contact = environ.get("SHARING_GEOCODER_CONTACT") or parseaddr(mail_sender)[1]
    user_agent = environ.get("SHARING_GEOCODER_USER_AGENT") or f"Delningstjansten/1.0 (+{base_url}; {contact})"
    min_delay = float(environ.get("SHARING_GEOCODER_MIN_DELAY_SECONDS", "1"))
    if url.rstrip("/") == PUBLIC_NOMINATIM and min_delay < 1:
        raise ConfigError("The public Nominatim allows one request a second: SHARING_GEOCODER_MIN_DELAY_SECONDS >= 1.")
    return {
        "GEOCODER": geocoder,
        "GEOCODER_URL": url,
        "GEOCODER_USER_AGENT": user_agent,
        "GEOCODER_TIMEOUT": float(environ.get("SHARING_GEOCODER_TIMEOUT", "3")),
        "GEOCODER_MIN_DELAY_SECONDS": min_delay,
    }
