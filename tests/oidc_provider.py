"""A real OpenID Connect provider for the tests, built from Authlib's server side (the
authorization code grant, PKCE, the OpenID Connect extension) and served on 127.0.0.1.

The test decides who signs in and what the provider says: the people it knows (their
claims), who is disabled there, which keys it publishes and signs with, and, to see our
app refuse them, an ID token for another audience, one that has expired, or one signed with
a key it does not publish. Nothing of the app is stubbed: it talks to this server over HTTP.
"""

from __future__ import annotations

import html
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from flask import Flask, jsonify, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server


def new_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig", "alg": "RS256"},
                               private=True)


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in scope.split() if s in {"openid", "email", "profile"})

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint != "token" or method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


@dataclass
class Person:
    """Someone the provider knows; ``claims`` go into their ID token as they are."""

    login: str
    claims: dict[str, Any]
    disabled: bool = False


class Provider:
    """The provider's state, which the tests change as they go."""

    def __init__(self) -> None:
        self.url = ""
        self.clients: dict[str, Client] = {}
        self.people: dict[str, Person] = {}
        self.codes: dict[str, Code] = {}
        self.keys = [new_key()]  # published; the first signs
        self.rogue_key: RSAKey | None = None  # signs instead, unpublished: a bad signature
        self.id_token_changes: dict[str, Any] = {}  # e.g. {"aud": "another"}, {"exp": ...}
        self.jwks_fetches = 0

    @property
    def issuer(self) -> str:
        return self.url

    def add_client(self, client_id: str, client_secret: str, redirect_uris: list[str]) -> None:
        self.clients[client_id] = Client(client_id, client_secret, redirect_uris)

    def add_person(self, login: str, **claims: Any) -> Person:
        person = Person(login, {"sub": secrets.token_hex(8), "email_verified": True, **claims})
        self.people[login] = person
        return person

    def rotate_keys(self) -> None:
        """A new signing key, published beside the old one (as providers roll them)."""
        self.keys.insert(0, new_key())

    def sign_in(self, authorize_url: str, login: str) -> str:
        """What the person does at the provider's login page: the address back to the app."""
        import requests  # Authlib's client brings it

        response = requests.post(authorize_url, data={"login": login}, allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text
        return response.headers["Location"]


class _OpenIDCode(OpenIDCode):
    def __init__(self, provider: Provider) -> None:
        super().__init__(require_nonce=True)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return any(code.nonce == nonce for code in self.provider.codes.values())

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        return self.provider.rogue_key or self.provider.keys[0]

    def get_client_algorithm(self, client: Client) -> str:
        return "RS256"

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": "RS256", "kid": (self.provider.rogue_key or self.provider.keys[0]).kid}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        return {"iss": self.provider.issuer, "aud": [client.client_id], "exp": int(time.time()) + 300}

    def generate_user_info(self, user: str, scope: str) -> UserInfo:
        return UserInfo(self.provider.people[user].claims)

    def encode_id_token(self, token: dict[str, Any], request: Any) -> str:
        """Authlib's ID token, then (on a test's request) misbehaving, and signed again."""
        signed = super().encode_id_token(token, request)
        if not self.provider.id_token_changes and self.provider.rogue_key is None:
            return signed
        key = self.provider.rogue_key or self.provider.keys[0]
        claims = {**jwt.decode(signed, key).claims, **self.provider.id_token_changes}
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def _app(provider: Provider) -> Flask:
    app = Flask("test-oidc-provider")
    app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"authorization_code": 300}

    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def save_authorization_code(self, code: str, request: Any) -> None:
            payload = request.payload
            provider.codes[code] = Code(code, payload.client_id, payload.redirect_uri, payload.scope, request.user,
                                        payload.data.get("nonce"), payload.data.get("code_challenge"),
                                        payload.data.get("code_challenge_method"))

        def query_authorization_code(self, code: str, client: Client) -> Code | None:
            found = provider.codes.get(code)
            return found if found is not None and found.client_id == client.client_id else None

        def delete_authorization_code(self, authorization_code: Code) -> None:
            provider.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: Code) -> str:
            return authorization_code.user

    server = AuthorizationServer(app, query_client=provider.clients.get, save_token=lambda token, request: None)
    server.register_grant(CodeGrant, [CodeChallenge(required=True), _OpenIDCode(provider)])

    @app.get("/.well-known/openid-configuration")
    def metadata() -> Any:
        return jsonify({
            "issuer": provider.issuer, "authorization_endpoint": provider.url + "/authorize",
            "token_endpoint": provider.url + "/token", "jwks_uri": provider.url + "/jwks",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"]})

    @app.get("/jwks")
    def jwks() -> Any:
        provider.jwks_fetches += 1
        return jsonify(KeySet(provider.keys).as_dict(private=False))

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize() -> Any:
        if request.method == "GET":  # the provider's own login page: who are you?
            server.get_consent_grant(end_user=None)  # refuses a bad client, redirect or challenge
            action = html.escape("/authorize?" + urlencode(request.args))
            return (f'<!doctype html><html lang="sv"><title>Testleverantör</title><main><h1>Logga in hos '
                    f'leverantören</h1><form method="post" action="{action}"><label for="login">Användarnamn</label>'
                    '<input id="login" name="login"><button type="submit">Logga in</button></form></main></html>')
        person = provider.people.get(request.form.get("login", ""))
        # Someone unknown or disabled here gets no code: the app hears access_denied.
        user = person.login if person is not None and not person.disabled else None
        return server.create_authorization_response(grant=server.get_consent_grant(end_user=user), grant_user=user)

    @app.post("/token")
    def token() -> Any:
        return server.create_token_response()

    return app


@contextmanager
def serve_provider() -> Iterator[Provider]:
    """The provider on a free port of 127.0.0.1, for as long as the block runs."""
    # Authlib's server wants HTTPS, but for this one on this machine.
    previous = os.environ.get("AUTHLIB_INSECURE_TRANSPORT")
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    provider = Provider()
    server = make_server("127.0.0.1", 0, _app(provider), threaded=True)
    provider.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="oidc-provider", daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        if previous is None:
            os.environ.pop("AUTHLIB_INSECURE_TRANSPORT", None)
        else:
            os.environ["AUTHLIB_INSECURE_TRANSPORT"] = previous
