"""The Idempotency-Key request header (IETF httpapi draft "The Idempotency-Key HTTP Header
Field"), for every API request that changes something: a retry changes nothing twice.

A key is the caller's (the signed-in user's, by API token or session) and names one request,
by its fingerprint: method, path with query, and body (a JSON body by what it says, a
multipart one by its fields and files). The first request with a key claims it, in a short
transaction of its own, so that a repeat while it runs is told 409 at once. The view then runs
with the request session's commits held (``RequestSession.hold_commits``); once it has its
answer, a success (2xx) or a client error (4xx) is written onto the claim in the view's own
transaction, and that commits: the work and its answer are kept together or not at all. Any
other answer (a server error above all) keeps nothing: the view's work is rolled back, the
claim is given up, and a retry runs anew. A claim whose request died with its process is taken
over once ``CLAIM_LEASE`` has passed (the request timeout is far shorter).

A repeat of the request gets the kept answer (status, Content-Type, Location and body) with
``Idempotent-Replayed: true``; the view does not run. Another request with the key is a 422.
Answers are kept for ``KEPT`` (the ``purge-idempotency-keys`` job deletes them after that; one
past it and not yet deleted is as if it were not there).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_login import current_user
from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String, Text, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Field, Session, SQLModel, col

from sharing.accounts.models import Actor
from sharing.accounts.personal_data import rules as personal_data
from sharing.accounts.personal_data.rules import Records
from sharing.api import blueprint
from sharing.api.openapi import IDEMPOTENCY_KEEP_HOURS, MAX_IDEMPOTENCY_KEY_LENGTH, MUTATING_METHODS
from sharing.clock import utcnow
from sharing.db import UTCDateTime, new_session, request_session
from sharing.jobs import Job, add_job
from sharing.web.errors import problem

log = logging.getLogger("sharing.api")

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT = timedelta(hours=IDEMPOTENCY_KEEP_HOURS)
# How long a claim holds while its request runs; then it counts as abandoned (its process died)
# and a retry may take it over. Well past the server's request timeout (30 s).
CLAIM_LEASE = timedelta(minutes=2)
RETRY_SECONDS = 1  # a repeat told 409 may try again this soon

# A structured-field string (RFC 8941), as the draft has it: printable ASCII in quotes, with \" and
# \\ escaped. Or the key bare, as most clients send it: printable ASCII.
_SF_STRING = re.compile(r'"((?:[ !#-\[\]-~]|\\["\\])*)"')
_BARE = re.compile(r"[!-~](?:[ -~]*[!-~])?")
_ESCAPE = re.compile(r'\\(["\\])')


class ApiIdempotency(SQLModel, table=True):
    """One caller's Idempotency-Key: the request it names and, once answered, the answer."""

    __tablename__ = "api_idempotency"

    user_id: int = Field(sa_column=Column(Integer, ForeignKey("user_account.id", ondelete="CASCADE"),
                                          primary_key=True))
    key: str = Field(sa_column=Column(String(MAX_IDEMPOTENCY_KEY_LENGTH), primary_key=True))
    fingerprint: str = Field(max_length=64, description="SHA-256 of method, path with query, and body")
    attempt: str = Field(max_length=32, description="Names the request holding the claim")
    started_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    status: int | None = Field(default=None, description="The answer's; none while the request runs")
    content_type: str | None = Field(default=None, max_length=200)
    location: str | None = Field(default=None, sa_type=Text)
    body: bytes | None = Field(default=None, sa_type=LargeBinary)


# --- Rules: plain functions of a session ---------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    """A key this request holds while it runs."""

    user_id: int
    key: str
    attempt: str


@dataclass(frozen=True)
class Answer:
    """What is kept of an answer, and given again to a repeat."""

    status: int
    content_type: str | None
    location: str | None
    body: bytes


class KeyRunning(Exception):
    """Another request with the key has not answered yet."""


class KeyReused(Exception):
    """The key was used for another request."""


def parse_key(raw: str) -> str | None:
    """The key a header's value names, or None if it names none (empty, too long, not ASCII)."""
    value = raw.strip(" \t")
    quoted = _SF_STRING.fullmatch(value)
    if quoted:
        key = _ESCAPE.sub(r"\1", quoted.group(1))
    elif _BARE.fullmatch(value) and not value.startswith('"'):
        key = value
    else:
        return None
    return key if 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH else None


def fingerprint(method: str, target: str, body_digest: str) -> str:
    """What a key names: the request's method, path with query, and a digest of its body."""
    return hashlib.sha256(json.dumps([method, target, body_digest]).encode()).hexdigest()


def _rowcount(result: Any) -> int:
    count: int = result.rowcount  # an UPDATE or DELETE gives a CursorResult
    return count


def claim(session: Session, *, user_id: int, key: str, fingerprint: str, now: datetime) -> Claim | Answer:
    """Claim the key for a request with this fingerprint, and commit. Returns the claim, or the
    kept answer of the same request made before; raises KeyReused or KeyRunning.

    Two requests at once cannot both claim it: the first INSERT wins by the primary key, and
    taking over an expired or abandoned claim is an UPDATE conditional on what was read."""
    this = (col(ApiIdempotency.user_id) == user_id, col(ApiIdempotency.key) == key)
    attempt = secrets.token_hex(16)
    fresh: dict[str, Any] = dict(fingerprint=fingerprint, attempt=attempt, started_at=now, expires_at=now + KEPT,
                                 status=None, content_type=None, location=None, body=None)
    for _ in range(3):  # each round loses only to a request that changed the row meanwhile
        try:
            session.execute(insert(ApiIdempotency).values(user_id=user_id, key=key, **fresh))
            session.commit()
            return Claim(user_id, key, attempt)
        except IntegrityError:
            session.rollback()
        table = ApiIdempotency.__table__  # type: ignore[attr-defined]  # SQLModel does not declare __table__
        found = session.execute(select(table).where(*this)).one_or_none()
        session.rollback()  # what was read decides; each write below is conditional on it
        if found is None:  # given up meanwhile: try again
            continue
        if found.expires_at <= now:
            taken = update(ApiIdempotency).where(*this, col(ApiIdempotency.expires_at) <= now)
        elif found.fingerprint != fingerprint:
            raise KeyReused()
        elif found.status is not None:
            return Answer(found.status, found.content_type, found.location, found.body or b"")
        elif found.started_at <= now - CLAIM_LEASE:
            taken = update(ApiIdempotency).where(*this, col(ApiIdempotency.attempt) == found.attempt,
                                                 col(ApiIdempotency.status).is_(None))
        else:
            raise KeyRunning()
        if _rowcount(session.execute(taken.values(**fresh))) == 1:
            session.commit()
            return Claim(user_id, key, attempt)
        session.rollback()
    raise KeyRunning()


def keep_answer(session: Session, claim: Claim, answer: Answer) -> bool:
    """Write the answer onto the claim, in the session's transaction (the view's); False if the
    claim is no longer this request's (taken over as abandoned), and then nothing is written."""
    kept = session.execute(
        update(ApiIdempotency)
        .where(col(ApiIdempotency.user_id) == claim.user_id, col(ApiIdempotency.key) == claim.key,
               col(ApiIdempotency.attempt) == claim.attempt, col(ApiIdempotency.status).is_(None))
        .values(status=answer.status, content_type=answer.content_type, location=answer.location,
                body=answer.body))
    return _rowcount(kept) == 1


def give_up(session: Session, claim: Claim) -> None:
    """Let the key go, unanswered: a retry runs anew."""
    session.execute(delete(ApiIdempotency).where(
        col(ApiIdempotency.user_id) == claim.user_id, col(ApiIdempotency.key) == claim.key,
        col(ApiIdempotency.attempt) == claim.attempt, col(ApiIdempotency.status).is_(None)))


def purge_expired(session: Session, *, now: datetime) -> int:
    """Delete the keys past their time; returns how many."""
    return _rowcount(session.execute(delete(ApiIdempotency).where(col(ApiIdempotency.expires_at) <= now)))


# --- The request's side ----------------------------------------------------------------------------

def _body_digest() -> str:
    """A digest of the body by what it says: a JSON body whatever its spacing and key order, a
    multipart body whatever its boundary (clients draw a new one for each try)."""
    if request.mimetype == "multipart/form-data":
        files = []
        for name, upload in request.files.items(multi=True):
            digest, stream = hashlib.sha256(), upload.stream
            start = stream.tell()
            while chunk := stream.read(1 << 16):
                digest.update(chunk)
            stream.seek(start)  # the view reads it next
            files.append([name, upload.filename, upload.mimetype, digest.hexdigest()])
        content = json.dumps(["multipart", list(request.form.items(multi=True)), files])
    elif request.is_json and (data := request.get_json(silent=True)) is not None:
        content = json.dumps(["json", data], sort_keys=True, separators=(",", ":"))
    else:
        return hashlib.sha256(request.get_data(cache=True)).hexdigest()
    return hashlib.sha256(content.encode()).hexdigest()


def _target() -> str:
    query = request.query_string.decode("latin-1")
    return f"{request.path}?{query}" if query else request.path


def replay(answer: Answer) -> Response:
    response = Response(answer.body, status=answer.status)
    if answer.content_type is None:
        del response.headers["Content-Type"]
    else:
        response.headers["Content-Type"] = answer.content_type
    if answer.location is not None:
        response.headers["Location"] = answer.location
    response.headers[REPLAYED_HEADER] = "true"
    return response


@dataclass
class _Running:
    claim: Claim
    answered: bool = False  # the answer went through store_answer (kept or not)
    kept: bool = False  # the answer and the view's work committed together


@blueprint.before_request
def honour_idempotency_key() -> Response | None:
    raw = request.headers.get(HEADER)
    if raw is None or request.method not in MUTATING_METHODS or not current_user.is_authenticated:
        return None
    key = parse_key(raw)
    if key is None:
        return problem(400, f"'{HEADER}' must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters, "
                            'bare or as a quoted string ("...").')
    signature = fingerprint(request.method, _target(), _body_digest())
    try:
        with new_session() as own:  # the claim shows to other requests at once
            claimed = claim(own, user_id=current_user.id, key=key, fingerprint=signature, now=utcnow())
    except KeyReused:
        return problem(422, f"This '{HEADER}' was used for another request (method, path or body); "
                            "use a new key for a new request.")
    except KeyRunning:
        response = problem(409, f"A request with this '{HEADER}' is still running; try again shortly.")
        response.headers["Retry-After"] = str(RETRY_SECONDS)
        return response
    if isinstance(claimed, Answer):
        return replay(claimed)
    g.idempotency = _Running(claimed)
    request_session().hold_commits()
    return None


def _kept(status: int) -> bool:
    # As the draft suggests: successes and client errors. A server error changed nothing (the
    # view's work is rolled back with it), so its retry runs anew.
    return 200 <= status < 300 or 400 <= status < 500


@blueprint.after_request
def store_answer(response: Response) -> Response:
    running: _Running | None = g.get("idempotency")
    if running is None or running.answered:
        return response
    running.answered = True
    if not _kept(response.status_code):
        return response  # given up at the request's end
    session = request_session()
    if not session.end_hold():
        session.rollback()  # the view committed nothing: only the answer is kept
    answer = Answer(response.status_code, response.headers.get("Content-Type"), response.headers.get("Location"),
                    response.get_data())
    try:
        if not keep_answer(session, running.claim, answer):
            session.rollback()
            log.warning("an idempotency key was taken over while its request ran: user %s", running.claim.user_id)
            return problem(409, f"This request took too long, and a retry with its '{HEADER}' took it over: "
                                "nothing of it was kept.")
        session.commit()
    except SQLAlchemyError as error:  # as if the view's own commit had failed
        session.rollback()
        return current_app.make_response(current_app.handle_user_exception(error))
    running.kept = True
    return response


@blueprint.teardown_request
def give_up_unanswered(_error: BaseException | None) -> None:
    running: _Running | None = g.pop("idempotency", None)
    if running is None or running.kept:
        return
    # What the view did is not kept without its answer; the key is let go for a retry.
    session = request_session()
    session.end_hold()
    session.rollback()  # first: on SQLite, the view's writes hold the lock the next statement needs
    try:
        with new_session() as own:
            give_up(own, running.claim)
            own.commit()
    except SQLAlchemyError:  # the claim lapses after CLAIM_LEASE anyway
        log.warning("could not let go of an idempotency key: user %s", running.claim.user_id, exc_info=True)


def purge_idempotency_keys() -> None:
    """The ``purge-idempotency-keys`` job: kept answers may hold what the callers wrote."""
    with new_session() as session:
        purge_expired(session, now=utcnow())
        session.commit()


def forget_user(session: Session, *, user_id: int, by: Actor, now: datetime) -> None:
    """An erased person's kept answers go at once (they may hold what they wrote)."""
    session.execute(delete(ApiIdempotency).where(col(ApiIdempotency.user_id) == user_id))


def _nothing_to_extract(session: Session, *, user_id: int) -> dict[str, Records]:
    return {}  # kept answers are the API's memory for a day, not a record of the person


def init_app(app: Flask) -> None:
    add_job(app, Job("purge-idempotency-keys", purge_idempotency_keys, timedelta(hours=1)))
    personal_data.contribute("api", extract=_nothing_to_extract, erase=forget_user, sections={})
