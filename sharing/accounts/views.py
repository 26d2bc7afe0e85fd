"""Signing in and out, passwords, invitations, and the user's own account page."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta, timezone

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user
from sqlalchemy import select
from sqlmodel import col
from werkzeug.wrappers import Response

from sharing.access import PUBLIC, SIGNED_IN, allow
from sharing.accounts import auth, mfa, notices
from sharing.accounts.forms import (
    ApiTokenForm,
    ChangePasswordForm,
    CodeForm,
    DisableMfaForm,
    EndSessionsForm,
    ForgotPasswordForm,
    LoginForm,
    NewPasswordForm,
    RecoveryCodeForm,
    RecoveryCodesForm,
)
from sharing.accounts.models import ApiToken, AttemptKind, Role, TokenPurpose, User
from sharing.accounts.sessions import begin_second_step, end_session, pending_second_step, start_session
from sharing.accounts.sso import pages as sso_pages
from sharing.accounts.sso import rules as sso_rules
from sharing.clock import utcnow
from sharing.db import db_session
from sharing.errors import DomainError
from sharing.typed import id_of
from sharing.web.forms import refusal, show_error
from sharing.web.redirects import safe_next

blueprint = Blueprint("accounts", __name__, template_folder="templates")
security_log = logging.getLogger("sharing.security")


def _login_limits() -> auth.Limits:
    config = current_app.config
    return auth.Limits(per_account_and_address=config["LOGIN_MAX_FAILURES"],
                       per_account=config["LOGIN_MAX_FAILURES_PER_ACCOUNT"],
                       per_address=config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
                       window=timedelta(minutes=config["LOGIN_WINDOW_MINUTES"]))


# Reset mails: a few an hour per account, so nobody can flood an inbox or keep a link changing.
RESET_LIMITS = auth.Limits(per_account_and_address=3, per_account=5, per_address=30, window=timedelta(hours=1))


def _address() -> str:
    return request.remote_addr or "-"


def _known_addresses() -> auth.KnownAddresses:
    """Addresses users signed in from: kept as hashes keyed by the app's secret."""
    return auth.KnownAddresses(key=b"known-address:" + str(current_app.secret_key).encode(),
                               keep_for=timedelta(days=current_app.config["LOGIN_KNOWN_ADDRESS_DAYS"]))


def signed_in(user: User, next_url: str | None) -> Response:
    """Start the session of a user who proved who they are (password and code, or their
    municipality's identity provider), and send them on."""
    signed_in = auth.signed_in_user(db_session, id_of(user))
    if signed_in is None:  # deactivated this very moment
        abort(403)
    auth.remember_address(db_session, user_id=id_of(user), address=_address(), key=_known_addresses().key,
                          now=utcnow())
    start_session(user)
    login_user(signed_in)
    security_log.info("login: user %s", user.id)
    return redirect(safe_next(next_url, url_for("web.index")))


@blueprint.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
def login() -> str | Response | tuple[str, int]:
    form = LoginForm(next=request.args.get("next"))
    if current_user.is_authenticated:
        return redirect(safe_next(form.next.data, url_for("web.index")))
    if form.validate_on_submit():
        # Where the address's municipality signs in with its own provider only, no password is tried.
        offer = sso_pages.offer_if_no_password(form.email.data or "", form.next.data)
        if offer is not None:
            return offer
        try:
            user = auth.authenticate(db_session, email=form.email.data or "", password=form.password.data or "",
                                     address=_address(), now=utcnow(), limits=_login_limits(),
                                     known_addresses=_known_addresses())
        except auth.LoginThrottled as error:
            security_log.warning("login throttled from %s", _address())
            flash(refusal(error), "error")
            return render_template("accounts/login.html", form=form), 429
        except auth.LoginRefused as error:
            db_session.commit()  # the failure is recorded for throttling
            security_log.info("login failed from %s", _address())
            flash(_(error.message), "error")
            return render_template("accounts/login.html", form=form)
        if not sso_rules.password_login_allowed(db_session, municipality_id=user.municipality_id):
            db_session.rollback()  # an address of another domain: the municipality still says no
            security_log.info("password login refused by municipality setting: user %s", user.id)
            flash(_("Your municipality logs in with its own account here, not with a password."), "error")
            return render_template("accounts/login.html", form=form)
        db_session.commit()
        if user.totp_secret is not None:
            begin_second_step(user, form.next.data)
            return redirect(url_for("accounts.login_code"))
        return signed_in(user, form.next.data)
    return render_template("accounts/login.html", form=form)


def _pending_user() -> tuple[User, str] | None:
    """The user half-way in (a password, or the municipality's sign-in, was right) and where they
    go next; None if no second step is pending."""
    pending = pending_second_step()
    user = auth.load_user(db_session, pending[0]) if pending else None
    # A pending second step follows a first one (a password, or the municipality's sign-in).
    if pending is None or user is None or user.totp_secret is None or not user.active:
        return None
    return user, pending[1]


def _second_step(template: str, form: CodeForm | RecoveryCodeForm,
                 check: Callable[[User, str], int | None]) -> str | Response | tuple[str, int]:
    """The second step of signing in, with a code from the app or a recovery code (``check``
    refuses a wrong one with a DomainError, and returns how many recovery codes are left when one
    was used). Both count as failed logins: the same throttle holds for both."""
    pending = _pending_user()
    if pending is None:
        flash(_("Log in with your e-mail address and password first."), "info")
        return redirect(url_for("accounts.login"))
    user, next_url = pending
    if form.validate_on_submit():
        try:
            known = auth.is_known_address(db_session, user_id=id_of(user), address=_address(),
                                          key=_known_addresses().key, now=utcnow(),
                                          keep_for=_known_addresses().keep_for)
            auth.check_throttle(db_session, kind=AttemptKind.LOGIN, email=user.email, address=_address(),
                                now=utcnow(), limits=_login_limits(), known_address=known)
            left = check(user, form.code.data or "")
        except auth.LoginThrottled as error:
            security_log.warning("login code throttled: user %s", user.id)
            flash(refusal(error), "error")
            return render_template(template, form=form), 429
        except DomainError as error:
            auth.record_attempt(db_session, kind=AttemptKind.LOGIN, email=user.email, address=_address(),
                                now=utcnow())
            db_session.commit()
            security_log.info("login code wrong: user %s", user.id)
            show_error(form, error)
        else:
            if left is not None:
                notices.queue_recovery_code_used(db_session, user, left=left)
            db_session.commit()
            response = signed_in(user, next_url)
            if left is not None:  # told after signing in, which starts the session afresh
                security_log.info("recovery code used: user %s, %d left", user.id, left)
                _tell_codes_left(left)
            return response
    return render_template(template, form=form)


def _tell_codes_left(left: int) -> None:
    if left <= mfa.RECOVERY_CODES_FEW:
        flash(ngettext("You used a recovery code. You have %(num)d left: make new ones under My account → "
                       "Two-step verification.",
                       "You used a recovery code. You have %(num)d left: make new ones under My account → "
                       "Two-step verification.", left), "info")
    else:
        flash(ngettext("You used a recovery code. You have %(num)d left.",
                       "You used a recovery code. You have %(num)d left.", left), "info")


@blueprint.route("/login/code", methods=["GET", "POST"])
@allow(PUBLIC)
def login_code() -> str | Response | tuple[str, int]:
    """The second step: a code from the user's authenticator app."""
    def check(user: User, code: str) -> None:
        mfa.verify(db_session, user=user, code=code, now=utcnow())
    return _second_step("accounts/login_code.html", CodeForm(), check)


@blueprint.route("/login/recovery-code", methods=["GET", "POST"])
@allow(PUBLIC)
def login_recovery_code() -> str | Response | tuple[str, int]:
    """The second step for someone without their phone: one of their recovery codes, once."""
    def check(user: User, code: str) -> int:
        return mfa.use_recovery_code(db_session, user=user, code=code, now=utcnow())
    return _second_step("accounts/login_recovery_code.html", RecoveryCodeForm(), check)


@blueprint.post("/logout")
@allow(SIGNED_IN)
def logout() -> Response:
    security_log.info("logout: user %s", current_user.id)
    end_session()
    flash(_("You have logged out."), "success")
    return redirect(url_for("web.index"))


@blueprint.route("/password/forgot", methods=["GET", "POST"])
@allow(PUBLIC)
def forgot_password() -> str | Response | tuple[str, int]:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = auth.normalise_email(form.email.data or "")
        try:
            auth.check_throttle(db_session, kind=AttemptKind.RESET, email=email, address=_address(), now=utcnow(),
                                limits=RESET_LIMITS)
        except auth.LoginThrottled as error:
            flash(refusal(error), "error")
            return render_template("accounts/forgot_password.html", form=form), 429
        auth.record_attempt(db_session, kind=AttemptKind.RESET, email=email, address=_address(), now=utcnow())
        user = auth.user_by_email(db_session, email)
        if user is not None and user.active:
            _send_password_link(user)
        db_session.commit()
        # The same answer whether or not the address has an account (and whether the mail
        # server answered): no enumeration.
        flash(_("If the address belongs to an account, a link to choose a new password is on its way."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form)


def _send_password_link(user: User) -> None:
    """A reset link; or, for someone who never accepted their invitation, a new invitation:
    queued with its token in the request's transaction, sent after the response, so a known
    address answers as fast as an unknown one."""
    config = current_app.config
    if user.password_hash is None:
        raw = auth.issue_account_token(db_session, user=user, purpose=TokenPurpose.INVITATION,
                                       lifetime=timedelta(days=config["INVITATION_DAYS"]), now=utcnow())
        notices.queue_invitation(db_session, user, token=raw, inviter=_("Delningstjänsten"))
    else:
        raw = auth.issue_account_token(db_session, user=user, purpose=TokenPurpose.PASSWORD_RESET,
                                       lifetime=timedelta(hours=config["PASSWORD_RESET_HOURS"]), now=utcnow())
        notices.queue_password_reset(db_session, user, token=raw)
    security_log.info("password link queued: user %s", user.id)


# Mailed links carry a secret. It is moved into the session at once and the browser sent on
# to an address without it, so the secret is in no log, history or Referer header after that.
LINK_KEY = "account_link"


def _stash(token: str, purpose: TokenPurpose, endpoint: str) -> Response:
    session[LINK_KEY] = {"token": token, "purpose": purpose.value}
    return redirect(url_for(endpoint))


def _redeem(purpose: TokenPurpose, template: str) -> str | Response:
    stashed = session.get(LINK_KEY) or {}
    raw = stashed.get("token", "") if stashed.get("purpose") == purpose.value else ""
    try:
        token = auth.find_account_token(db_session, raw=raw, purpose=purpose, now=utcnow())
    except DomainError as error:
        flash(_(error.message), "error")
        return redirect(url_for("accounts.forgot_password"))
    account = db_session.get(User, token.user_id)  # whose password it is: said on the page
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = auth.redeem_account_token(db_session, raw=raw, purpose=purpose, password=form.password.data or "",
                                             now=utcnow())
        except DomainError as error:
            show_error(form, error)
        else:
            db_session.commit()
            session.pop(LINK_KEY, None)
            security_log.info("password set via %s: user %s", purpose.value, user.id)
            if purpose is TokenPurpose.PASSWORD_RESET:
                notices.password_changed(user)
            flash(_("Your password is saved. Log in with it now."), "success")
            return redirect(url_for("accounts.login"))
    return render_template(template, form=form, account_email=account.email if account else "")


@blueprint.get("/password/reset/<token>")
@allow(PUBLIC)
def reset_password(token: str) -> Response:
    return _stash(token, TokenPurpose.PASSWORD_RESET, "accounts.new_password")


@blueprint.route("/password/new", methods=["GET", "POST"])
@allow(PUBLIC)
def new_password() -> str | Response:
    return _redeem(TokenPurpose.PASSWORD_RESET, "accounts/reset_password.html")


@blueprint.get("/invitation/<token>")
@allow(PUBLIC)
def accept_invitation(token: str) -> Response:
    return _stash(token, TokenPurpose.INVITATION, "accounts.join")


@blueprint.route("/invitation", methods=["GET", "POST"])
@allow(PUBLIC)
def join() -> str | Response:
    return _redeem(TokenPurpose.INVITATION, "accounts/accept_invitation.html")


def _own_record() -> User:
    """The signed-in user's record, for what reads or changes more than current_user holds
    (loaded once a request: a refused form reads it again for the account page)."""
    if "own_record" not in g:
        g.own_record = auth.load_user(db_session, current_user.id)
    if g.own_record is None:  # deleted since the request began
        abort(404)
    return g.own_record


def _account_page(password_form: ChangePasswordForm, token_form: ApiTokenForm, new_token: str | None = None,
                  sessions_form: EndSessionsForm | None = None) -> str:
    tokens = db_session.scalars(
        select(ApiToken).where(col(ApiToken.user_id) == current_user.id).order_by(col(ApiToken.created_at).desc())
    ).all()
    return render_template("accounts/account.html", user=_own_record(), password_form=password_form,
                           token_form=token_form,
                           sessions_form=sessions_form or EndSessionsForm(prefix="sessions", formdata=None),
                           tokens=tokens, new_token=new_token, now=utcnow(),
                           sessions=auth.live_sessions(db_session, user_id=current_user.id),
                           this_session_id=g.get("user_session_id"),
                           token_max_days=current_app.config["API_TOKEN_MAX_DAYS"],
                           recovery_codes_left=mfa.recovery_codes_left(db_session, user_id=current_user.id),
                           recovery_codes_few=mfa.RECOVERY_CODES_FEW)


@blueprint.get("/account")
@allow(SIGNED_IN)
def account() -> str:
    return _account_page(ChangePasswordForm(), ApiTokenForm())


@blueprint.post("/account/password")
@allow(SIGNED_IN)
def change_password() -> str | Response | tuple[str, int]:
    form = ChangePasswordForm()
    user = _own_record()
    if form.validate_on_submit():
        try:
            auth.change_password(db_session, user=user, current=form.current_password.data or "",
                                 new=form.password.data or "", keep_session_id=g.get("user_session_id"), now=utcnow())
        except DomainError as error:
            show_error(form, error)
        else:
            db_session.commit()
            notices.password_changed(user)
            security_log.info("password changed: user %s", user.id)
            flash(_("Your password is changed. Other sessions have been logged out."), "success")
            return redirect(url_for("accounts.account"))
    return _account_page(form, ApiTokenForm()), 400


@blueprint.post("/account/sessions/end-others")
@allow(SIGNED_IN)
def end_other_sessions() -> Response | tuple[str, int]:
    form = EndSessionsForm(prefix="sessions")
    if form.validate_on_submit():
        try:
            auth.confirm_password(_own_record(), form.current_password.data or "")  # ASVS 5.0 V7.5.2
        except DomainError as error:
            show_error(form, error)
        else:
            auth.end_user_sessions(db_session, user_id=current_user.id, now=utcnow(),
                                   keep_session_id=g.get("user_session_id"))
            db_session.commit()
            security_log.info("other sessions ended: user %s", current_user.id)
            flash(_("Your other sessions have been logged out."), "success")
            return redirect(url_for("accounts.account"))
    security_log.info("ending other sessions refused: user %s", current_user.id)
    return _account_page(ChangePasswordForm(formdata=None), ApiTokenForm(formdata=None), sessions_form=form), 400


@blueprint.post("/account/tokens")
@allow(SIGNED_IN)
def create_token() -> str | tuple[str, int]:
    form = ApiTokenForm()
    user = _own_record()
    if form.validate_on_submit():
        max_lifetime = timedelta(days=current_app.config["API_TOKEN_MAX_DAYS"])
        expires = (datetime.combine(form.expires_on.data, time.max, tzinfo=timezone.utc)
                   if form.expires_on.data else utcnow() + max_lifetime)
        try:
            token, raw = auth.create_api_token(db_session, user=user, name=form.name.data or "",
                                               password=form.current_password.data or "", now=utcnow(),
                                               expires_at=expires, max_lifetime=max_lifetime)
        except DomainError as error:
            show_error(form, error)
        else:
            db_session.commit()
            security_log.info("api token %s created: user %s", token.id, user.id)
            return _account_page(ChangePasswordForm(), ApiTokenForm(formdata=None), new_token=raw)
    return _account_page(ChangePasswordForm(), form), 400


@blueprint.post("/account/tokens/<int:token_id>/revoke")
@allow(SIGNED_IN)
def revoke_token(token_id: int) -> Response:
    try:
        auth.revoke_api_token(db_session, user=current_user, token_id=token_id, now=utcnow())
    except DomainError as error:
        flash(_(error.message), "error")
    else:
        db_session.commit()
        security_log.info("api token %s revoked: user %s", token_id, current_user.id)
        flash(_("The token is revoked."), "success")
    return redirect(url_for("accounts.account"))


@blueprint.route("/account/two-step", methods=["GET", "POST"])
@allow(SIGNED_IN)
def two_step() -> str | Response:
    """Turn two-step verification on (scan, then confirm one code) or see that it is on."""
    user = _own_record()
    if user.totp_secret is not None:
        return _two_step_on_page(DisableMfaForm(), RecoveryCodesForm(prefix="codes"))
    # The secret waits in the session until a code from the app confirms it.
    secret = session.get("mfa_setup_secret") or mfa.new_secret()
    session["mfa_setup_secret"] = secret
    form = CodeForm()
    if form.validate_on_submit():
        try:
            mfa.enable(db_session, user=user, secret=secret, code=form.code.data or "", now=utcnow())
            codes = mfa.make_recovery_codes(db_session, user=user, now=utcnow())
        except DomainError as error:
            show_error(form, error)
        else:
            db_session.commit()
            session.pop("mfa_setup_secret", None)
            security_log.info("two-step verification on: user %s", user.id)
            notices.two_step_changed(user, enabled=True)
            flash(_("Two-step verification is on. From now on you log in with a code from your app."), "success")
            return _recovery_codes_page(codes)
    uri = mfa.provisioning_uri(secret, user.email)
    return render_template("accounts/two_step.html", enabled=False, form=form, secret=secret, uri=uri,
                           secret_groups=mfa.in_groups(secret),
                           qr_code=mfa.qr_code_svg(uri, _("QR code for your authenticator app")))


@blueprint.post("/account/two-step/off")
@allow(SIGNED_IN)
def two_step_off() -> str | Response | tuple[str, int]:
    user = _own_record()
    form = DisableMfaForm()
    if form.validate_on_submit():
        if user.has_role(*[Role(r) for r in current_app.config["MFA_REQUIRED_ROLES"]]):
            flash(_("Your role requires two-step verification: it cannot be turned off."), "error")
            return redirect(url_for("accounts.two_step"))
        try:
            mfa.disable(db_session, user=user, password=form.current_password.data or "", code=form.code.data or "",
                        now=utcnow())
        except DomainError as error:
            show_error(form, error)
        else:
            db_session.commit()
            security_log.info("two-step verification off: user %s", user.id)
            notices.two_step_changed(user, enabled=False)
            flash(_("Two-step verification is off."), "success")
            return redirect(url_for("accounts.account"))
    return _two_step_on_page(form, RecoveryCodesForm(prefix="codes", formdata=None)), 400


def _two_step_on_page(form: DisableMfaForm, codes_form: RecoveryCodesForm) -> str:
    return render_template("accounts/two_step.html", enabled=True, form=form, codes_form=codes_form,
                           codes_left=mfa.recovery_codes_left(db_session, user_id=current_user.id),
                           codes_few=mfa.RECOVERY_CODES_FEW)


def _recovery_codes_page(codes: list[str]) -> Response:
    """The new codes, shown this once: never kept by a browser or a proxy."""
    response = make_response(render_template("accounts/recovery_codes.html", codes=codes))
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/account/two-step/recovery-codes")
@allow(SIGNED_IN)
def new_recovery_codes() -> str | Response | tuple[str, int]:
    """Ten new recovery codes (the old ones stop working), after the password once more."""
    user = _own_record()
    if user.totp_secret is None:
        return redirect(url_for("accounts.two_step"))
    form = RecoveryCodesForm(prefix="codes")
    if form.validate_on_submit():
        try:
            auth.confirm_password(user, form.current_password.data or "")
            codes = mfa.make_recovery_codes(db_session, user=user, now=utcnow())
        except DomainError as error:
            show_error(form, error)
        else:
            db_session.commit()
            security_log.info("recovery codes made anew: user %s", user.id)
            flash(_("Your new recovery codes are made. The old ones no longer work."), "success")
            return _recovery_codes_page(codes)
    return _two_step_on_page(DisableMfaForm(formdata=None), form), 400
