"""A fetch's final answer (no redirect) as a FetchResult or a FetchError.

A 304 is "checked, unchanged"; other non-2xx statuses become error kinds (Retry-After
read for 429 and 503); a 2xx body is read under the type and size caps and decoded with
``pipeline.decompress``, or skipped when its compressed bytes are the last body's.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from pipeline.decompress import BodyReader, media_type, refuse_declared_type
from pipeline.errors import FetchError
from pipeline.fetch_transport import STREAM_ERRORS, drain, translate
from pipeline.models import FetchResult

__all__ = ["RETRY_AFTER_CEILING", "finish", "parse_retry_after"]

RETRY_AFTER_CEILING = 7 * 24 * 3600.0  # longer "come back later" answers are treated as a week


def parse_retry_after(value: str | None, *, now: datetime, cap: float) -> float | None:
    """Seconds to wait from a Retry-After value (delay-seconds or HTTP-date), capped.

    None when absent or unparseable; a date in the past gives 0. Never raises.
    """
    try:
        if value is None:
            return None
        text = value.strip()
        if text.isascii() and text.isdigit():
            # Huge digit strings would be slow (or refused) to convert; they are "cap" anyway.
            seconds = float(int(text)) if len(text) <= 12 else float("inf")
            return max(0.0, min(seconds, cap))
        if not text or len(text) > 100:
            return None
        when = parsedate_to_datetime(text)
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
        return max(0.0, min((when - now).total_seconds(), cap))
    except Exception:  # any malformed header is simply "not given"
        return None


def _joined(items: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Header name (lower case) -> value, repeats joined with ", " as httpx's Headers.get
    joins them."""
    joined: dict[str, str] = {}
    for name, value in items:
        joined[name] = f"{joined[name]}, {value}" if name in joined else value
    return joined


async def finish(state, response, fetched_at, started, **kwargs) -> FetchResult:
    """The result of a final ``httpx.Response`` for the exchange ``state``, or its error;
    ``kwargs`` are the fetch's options (validators, caps, the last body's hashes)."""
    status = response.status_code
    items = tuple(response.headers.multi_items())
    headers = _joined(items)  # one pass: each httpx Headers.get scans and decodes them all
    common = dict(
        url=state.url,
        final_url=state.current,
        status=status,
        headers=items,
        fetched_at=fetched_at,
        redirects=tuple(state.hops),
    )
    if status == 304:
        await drain(response)  # no body: this only lets the connection be kept
        return FetchResult(
            **common,
            duration=time.monotonic() - started,
            etag=headers.get("etag") or kwargs.get("etag"),
            last_modified=headers.get("last-modified") or kwargs.get("last_modified"),
            not_modified=True,
        )
    if not 200 <= status < 300:
        error = _status_error(state, response)
        await drain(response)
        raise error
    media, charset = media_type(headers.get("content-type"))
    body, wire = await _read_body(state, response, media, headers, **kwargs)
    body_sha256 = (kwargs["last_body"][0] if body is None  # only when a last body was given
                   else hashlib.sha256(body).hexdigest())
    return FetchResult(
        **common,
        duration=time.monotonic() - started,
        body=body or b"",
        charset=charset,  # decoded on first use of .text: an unchanged page never is
        content_type=media,
        etag=headers.get("etag"),
        last_modified=headers.get("last-modified"),
        body_sha256=body_sha256,
        wire_sha256=wire,
    )


def _status_error(state, response) -> FetchError:
    status = response.status_code
    reason = f"HTTP {status} {response.reason_phrase}".strip()
    if status == 404:
        return state.error(reason, "not_found", status=status)
    if status == 410:
        return state.error(reason, "gone", status=status)
    if status in (429, 503):
        # The server's own figure (bounded): the run waits only up to retry_after_cap,
        # but a longer request still tells the schedule when to come back.
        wait = parse_retry_after(
            response.headers.get("retry-after"), now=datetime.now(UTC), cap=RETRY_AFTER_CEILING
        )
        return state.error(reason, "retry_later", status=status, retry_after=wait)
    return state.error(reason, "http_status", status=status)


async def _read_body(state, response, media, headers, *, max_bytes, html_only,
                     last_body=(None, None), **_) -> tuple[bytes | None, str | None]:
    """(body, wire hash); body None when the compressed bytes are the last body's."""
    refusal = refuse_declared_type(media, html_only=html_only)
    if refusal is not None:
        raise state.error(refusal, "content_type", status=response.status_code)
    length = headers.get("content-length", "").strip()
    if length.isdigit() and int(length) > max_bytes:
        raise state.error(
            f"Content-Length {length} exceeds the {max_bytes}-byte cap", "too_large",
            status=response.status_code,
        )
    codings = [
        c.strip().lower()
        for c in headers.get("content-encoding", "").split(",")
        if c.strip()
    ]
    status = response.status_code
    reader = BodyReader(
        codings, max_bytes, media, html_only,
        fail=lambda message, kind: state.error(message, kind, status=status),
    )
    wire = hashlib.sha256("\n".join(codings).encode() + b"\n") if codings else None
    # Held back, not decoded, while they may turn out to be the last body's bytes; past
    # max_bytes they are decoded as they come (the decoder enforces the caps).
    held: list[bytes] | None = [] if wire and all(last_body) else None
    held_size = 0
    try:
        async for chunk in response.aiter_raw():
            if wire is not None:
                wire.update(chunk)
            if held is not None:
                held.append(chunk)
                held_size += len(chunk)
                if held_size <= max_bytes:
                    continue
                chunk, held = b"".join(held), None
            reader.feed(chunk)
        digest = wire.hexdigest() if wire is not None else None
        if held is not None:
            if digest == last_body[1]:
                return None, digest  # the same bytes decode to the same body
            reader.feed(b"".join(held))
        reader.finish()
    except STREAM_ERRORS as exc:
        raise translate(state, exc) from exc
    if html_only and not reader.body:
        raise state.error("empty body", "empty", status=response.status_code)
    return reader.body, digest
