"""Webhooks other systems call: the mail relay posting the bounces and complaints it received.

``POST /hooks/bounces`` takes one returned message as it arrived: the whole message
(``Content-Type: message/rfc822``, or any other type), or its ``multipart/report`` body with the
boundary in the request's ``Content-Type``. It is authenticated as the app's own outgoing
webhooks are signed (``contest.prizes.shops.webhook``): ``X-Contest-Signature: sha256=`` and
the hex HMAC-SHA256 of the raw body under ``CONTEST_BOUNCE_WEBHOOK_SECRET``, checked before the
body is read as mail. Answers: 404 while the secret is unset (the door does not exist), 413 over
:data:`MAX_REPORT_BYTES`, 401 for a missing or wrong signature, 400 for a message that is no
report, and 200 with what was done (counts, no address) for a report, even one that changed
nothing (a soft bounce): the relay must not send it again. No session, no CSRF token: the
signature is the authority, and applying a report twice changes nothing.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contest.bounces.handling import handle_raw
from contest.bounces.reports import MAX_REPORT_BYTES
from contest.prizes.shops.webhook import SIGNATURE_HEADER, verify_webhook_signature
from contest.web.base import now_of, state_of
from contest.web.pages import api_error


async def bounces(request: Request) -> Response:
    """POST: one bounce (DSN) or complaint (ARF) from the relay, signed; applied at once."""
    state = state_of(request)
    secret = state.settings.bounce_webhook_secret
    if secret is None:
        return api_error(404, "not_found", "No bounce webhook on this installation.")
    body = await _body(request, MAX_REPORT_BYTES)
    if body is None:
        return api_error(413, "too_large", f"At most {MAX_REPORT_BYTES} bytes.")
    if not verify_webhook_signature(secret, body, request.headers.get(SIGNATURE_HEADER)):
        return api_error(401, "unauthorized", f"Missing or wrong {SIGNATURE_HEADER}.")
    raw = _as_message(request.headers.get("content-type", ""), body)
    outcome = await run_in_threadpool(
        handle_raw, state.engine, raw, now_of(request), door="webhook"
    )
    if not outcome.report:
        return api_error(400, "not_a_report", f"Not a bounce or a complaint: {outcome.reason}.")
    return JSONResponse(
        {
            "kind": outcome.kind,
            "undeliverable": outcome.undeliverable,
            "withdrawn": outcome.withdrawn,
            "message_found": outcome.outbox_id is not None,
        }
    )


async def _body(request: Request, limit: int) -> bytes | None:
    """The body, or None as soon as it grows past ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _as_message(content_type: str, body: bytes) -> bytes:
    """A ``multipart/report`` body posted without its own headers gets the request's
    Content-Type (its boundary) back in front of it; anything else is a whole message."""
    if content_type.split(";", 1)[0].strip().lower() != "multipart/report":
        return body
    header = " ".join(content_type.split()).encode("latin-1", errors="replace")
    return b"Content-Type: " + header + b"\r\n\r\n" + body


routes = [Route("/bounces", bounces, name="bounces", methods=["POST"])]
