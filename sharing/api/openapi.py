"""The OpenAPI 3.1 document, built from the API's routes and the schemas they declare."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from flask import Flask
from pydantic import BaseModel

from sharing.db import MAX_RECORD_ID
from sharing.web.arguments import MAX_PAGE

View = TypeVar("View", bound=Callable[..., object])
_CONVERTER = re.compile(r"<(?:(?P<conv>[a-z]+):)?(?P<name>\w+)>")


@dataclass(frozen=True)
class Operation:
    """What the document says of one view: its purpose and the shapes it reads and writes."""

    summary: str
    tag: str
    response: type[BaseModel] | None = None
    paginated: bool = False
    body: type[BaseModel] | None = None
    status: int = 200
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The fields of a multipart/form-data body (uploads); with ``body`` too, either may be sent.
    multipart: dict[str, dict[str, Any]] | None = None
    responses: dict[int, str] = field(default_factory=dict)  # problems besides the common ones


def documented(summary: str, *, tag: str, response: type[BaseModel] | None = None, paginated: bool = False,
               body: type[BaseModel] | None = None, status: int = 200,
               query: dict[str, dict[str, Any]] | None = None,
               multipart: dict[str, dict[str, Any]] | None = None,
               responses: dict[int, str] | None = None) -> Callable[[View], View]:
    """Describe an API view for the OpenAPI document (``responses``: problems it may answer
    besides the ones every operation may)."""
    def decorate(view: View) -> View:
        view.openapi = Operation(summary, tag, response, paginated, body, status, query or {},  # type: ignore[attr-defined]  # rides on the view
                                 multipart=multipart, responses=responses or {})
        return view
    return decorate


PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "What is wrong (a 422): every problem, each with the field it concerns, "
                           "or null for one that concerns the request as a whole",
            "items": {
                "type": "object",
                "properties": {"field": {"type": ["string", "null"]}, "message": {"type": "string"}},
                "required": ["field", "message"],
            },
        },
    },
    "required": ["title", "status"],
}
# What the API accepts as an id (sharing.db.RecordId), in a path, a query or a body.
ID_SCHEMA: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_RECORD_ID}
MAX_PER_PAGE = 200
PAGE_PARAMETERS = [
    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}},
    {"name": "per_page", "in": "query",
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 50}},
]

# Methods that change something: each takes an Idempotency-Key (sharing/api/idempotency.py).
MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_IDEMPOTENCY_KEY_LENGTH = 255
IDEMPOTENCY_KEEP_HOURS = 24
IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": (
        "Makes a retry of this request safe (IETF draft \"The Idempotency-Key HTTP Header Field\"): a key the "
        "client makes unique per request (a UUID, say), as a structured-field string (\"...\") or bare, "
        f"of 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters. The first request with the key runs; "
        "its answer, if a success (2xx) or a client error (4xx), is kept with what it did, in one "
        f"transaction, for {IDEMPOTENCY_KEEP_HOURS} hours. A repeat of the same request (method, path and body) "
        "with the key gets that answer again, with `Idempotent-Replayed: true`, and changes nothing; a "
        "repeat while the first still runs gets 409; another request with the key gets 422. A server error "
        "(5xx) is not kept and changed nothing: the retry runs anew. Keys are the caller's own: another "
        "user's key of the same value is another key."),
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH,
               "pattern": "^[!-~]([ -~]*[!-~])?$"},
}


def _schema_ref(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def build_document(app: Flask, *, blueprint: str, prefix: str, title: str, version: str) -> dict[str, Any]:
    """Walk the blueprint's routes; every documented view becomes an operation."""
    schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.endpoint.startswith(blueprint + "."):
            continue
        view = app.view_functions[rule.endpoint]
        operation: Operation | None = getattr(view, "openapi", None)
        if operation is None:
            continue
        path = _CONVERTER.sub(r"{\g<name>}", rule.rule[len(prefix):] or "/")
        parameters: list[dict[str, Any]] = [
            {"name": m["name"], "in": "path", "required": True,
             "schema": ID_SCHEMA if m["conv"] == "int" else {"type": "string"}}
            for m in _CONVERTER.finditer(rule.rule)
        ]
        if operation.paginated:
            parameters += PAGE_PARAMETERS
        parameters += [{"name": name, "in": "query", "schema": schema} for name, schema in operation.query.items()]
        access = getattr(view, "access", None)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            responses: dict[str, Any] = {}
            if operation.response is not None:
                item = _schema_ref(operation.response, schemas)
                content = ({"type": "object", "required": ["items", "page", "per_page", "total"], "properties": {
                    "items": {"type": "array", "items": item}, "page": {"type": "integer"},
                    "per_page": {"type": "integer"}, "total": {"type": "integer"},
                    "total_exact": {"type": "boolean",
                                    "description": "false: there are more than total (a broad search is counted "
                                                   "up to a limit)"}}}
                    if operation.paginated else item)
                responses[str(operation.status)] = {"description": "OK",
                                                    "content": {"application/json": {"schema": content}}}
            else:
                responses[str(operation.status)] = {"description": "OK"}
            responses.update({"400": _problem("Bad request"), "401": _problem("Not authenticated"),
                              "403": _problem("Forbidden"), "404": _problem("Not found")})
            responses.update({str(code): _problem(description) for code, description in operation.responses.items()})
            entry: dict[str, Any] = {
                "summary": operation.summary, "tags": [operation.tag], "operationId": rule.endpoint.split(".", 1)[1],
                "responses": responses,
            }
            if access is not None:
                entry["description"] = f"Access: {access.describe()}."
                if access.public:
                    entry["security"] = []
            if method in MUTATING_METHODS:
                entry["parameters"] = [*parameters, {"$ref": "#/components/parameters/IdempotencyKey"}]
                responses["409"] = _problem("A request with the same Idempotency-Key is still running, "
                                             "or took this one over")
            elif parameters:
                entry["parameters"] = parameters
            if operation.body is not None and method in {"POST", "PUT", "PATCH"}:
                body_schema = _schema_ref(operation.body, schemas)
                entry["requestBody"] = {"required": True, "content": {"application/json": {"schema": body_schema}}}
                responses["415"] = _problem("The body is not JSON (Content-Type: application/json)")
                responses["422"] = _problem("The body does not validate")
            if operation.multipart is not None and method in {"POST", "PUT", "PATCH"}:
                # Beside a JSON body (a step that may bring a file), or alone (an upload).
                body = entry.setdefault("requestBody", {"required": True, "content": {}})
                body["content"]["multipart/form-data"] = {
                    "schema": {"type": "object", "properties": operation.multipart}}
                responses["413"] = _problem("The request is too large")
                responses["415"] = _problem("The body is neither JSON nor multipart/form-data"
                                            if operation.body is not None else "The body is not multipart/form-data")
                responses["422"] = _problem("The body does not validate, or an upload is refused; the detail says why"
                                            if operation.body is not None
                                            else "An upload is refused; the detail says why")
            if method in MUTATING_METHODS:
                reused = "the Idempotency-Key was used for another request"
                responses["422"] = _problem(f"{responses['422']['description']}; or {reused}" if "422" in responses
                                            else reused.capitalize())
            paths.setdefault(path, {})[method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version,
                 "description": "The API of Delningstjänsten. Authenticate with a personal API token "
                                "(created on the account page) as `Authorization: Bearer <token>`. "
                                "Errors are RFC 9457 problem details. Every request that changes something "
                                "takes an `Idempotency-Key` header, so that a retry changes nothing twice."},
        "servers": [{"url": prefix}],
        "paths": paths,
        "components": {"schemas": schemas, "parameters": {"IdempotencyKey": IDEMPOTENCY_KEY_PARAMETER},
                       "securitySchemes": {"bearerToken": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearerToken": []}],
    }
