"""Idempotency-Key on creating POSTs: a retried request replays the first reply instead of
creating a second record; the same key with another body is refused (422).

Only successful replies are stored. A refused request wrote nothing, so its retry simply runs
again and gets today's answer.
"""

import hashlib
import json
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from inventory.errors import DomainError
from inventory.models import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"
    default_detail = _("This Idempotency-Key was already used for another request.")


def idempotency_key(request: Request) -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise exceptions.ValidationError(
            {HEADER: [_("Between 1 and 255 characters.")]}, code="invalid"
        )
    return key


def _file_digest(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return f"file:{upload.name}:{digest.hexdigest()}"


def _fingerprint_value(value):
    # An uploaded file counts by its content, not its name: another report under the same
    # name is another request (422), not a replay.
    if hasattr(value, "chunks") and hasattr(value, "name"):
        return _file_digest(value)
    return value


def request_fingerprint(request: Request) -> str:
    data = request.data
    if hasattr(data, "lists"):  # a multipart QueryDict: every value of every key
        data = {key: [_fingerprint_value(v) for v in values] for key, values in data.lists()}
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    # The query string counts: `?dry_run=true` asks for another thing than the same body without.
    query = json.dumps(sorted(request.query_params.lists()), separators=(",", ":"))
    target = f"{request.method} {request.path}\n{query}\n{body}"
    return hashlib.sha256(target.encode()).hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    response = Response(record.response_body, status=record.response_status)
    response[REPLAY_HEADER] = "true"
    return response


def idempotent(
    request: Request, perform: Callable[[], Response], *, database_only: bool = False
) -> Response:
    """Run `perform` once per (user, Idempotency-Key); without the header, just run it.

    Either way `perform` runs in one transaction that any error rolls back whole, so that
    the services it calls need no savepoint of their own (device_register's savepoint=False).

    `database_only`: `perform` writes nothing but rows of this database (no file, no e-mail),
    so a request that repeats a key may run it and roll it back: the record is written last,
    with its reply, one statement instead of an INSERT before and an UPDATE after.
    """
    key = idempotency_key(request)
    if key is None:
        with transaction.atomic():
            return perform()
    fingerprint = request_fingerprint(request)
    records = IdempotencyRecord.objects.filter(user=request.user, key=key)
    if database_only:
        return _record_last(request, perform, key, fingerprint, records)
    try:
        with transaction.atomic():
            # The record is written first, in the same transaction as the create: a key used
            # before fails to insert on the (user, key) unique constraint, and a concurrent
            # request with the same key waits on it until this one commits, then fails; both
            # replay the stored reply below. So a first request reads nothing before its
            # INSERT. If the create is refused, the record goes with the rollback.
            IdempotencyRecord.objects.create(
                user=request.user, key=key, endpoint=request.path[:300], request_hash=fingerprint
            )
            response = perform()
            # Stored as the client saw it (lazy translations and decimals rendered).
            records.update(
                response_status=response.status_code,
                response_body=json.loads(JSONRenderer().render(response.data)),
            )
    except IntegrityError:
        record = records.first()
        if record is None:
            raise
        return _replay(record, fingerprint)
    return response


def _record_last(request, perform, key: str, fingerprint: str, records) -> Response:
    """The record written after `perform`, in its transaction. A key used before fails on the
    record's unique constraint, or sooner on what `perform` would create twice (a serial
    already registered: a refusal), and a concurrent request with the key waits for the
    first one's commit at the same place and fails the same way: its transaction rolls back
    whole, and the reply stored by the first is replayed (or 422 for another body). A refusal
    with no record of the key is this request's own answer."""
    try:
        with transaction.atomic():
            response = perform()
            IdempotencyRecord.objects.create(
                user=request.user,
                key=key,
                endpoint=request.path[:300],
                request_hash=fingerprint,
                response_status=response.status_code,
                # Stored as the client saw it (lazy translations and decimals rendered).
                response_body=json.loads(JSONRenderer().render(response.data)),
            )
    except (IntegrityError, DomainError, exceptions.APIException, ValidationError):
        record = records.first()
        if record is None:
            raise
        return _replay(record, fingerprint)
    return response
