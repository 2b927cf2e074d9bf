"""Reading a response body under a cap: content codings, size and type sniffing.

``BodyDecoder`` undoes HTTP content codings (gzip, deflate, br, zstd) incrementally;
``BodyReader`` feeds it raw chunks, enforces the byte caps and sniffs what the body is.
No httpx here: the fetcher hands over raw bytes and turns failures into FetchErrors.

httpx decodes whatever the server sends with no cap on the output, so a few hundred bytes of
brotli can become hundreds of MiB. Here every stage produces output in pieces of at most
``CHUNK`` bytes and counts what it produced; past ``limit`` it raises ``DecodeLimit``.
Corrupt or truncated data raises ``DecodeFailed``. Both are translated by the fetcher.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator

import brotli
import zstandard

try:  # ISA-L inflates gzip about twice as fast as zlib, with the same API (max_length too)
    from isal import isal_zlib as _inflate

    _INFLATE_ERRORS: tuple[type[Exception], ...] = (_inflate.error, zlib.error)
except ImportError:  # pragma: no cover - isal is a dependency; zlib is the fallback
    _inflate = zlib
    _INFLATE_ERRORS = (zlib.error,)

__all__ = [
    "CHUNK", "GZIP_MAGIC", "BodyDecoder", "BodyReader", "DecodeFailed", "DecodeLimit",
    "media_type", "refuse_declared_type",
]

CHUNK = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b\x08"
# brotli grows its output buffer in blocks (about 32 KiB, then 96 KiB), so the limit is a
# hint: below 32 KiB every piece stays under ~32 KiB, at 64 KiB pieces reach ~96 KiB.
_BROTLI_LIMIT = 16 * 1024


class DecodeLimit(Exception):
    """A stage produced more than its limit."""


class DecodeFailed(Exception):
    """The data is not valid for its declared coding (or is truncated)."""


class _Stage:
    name = "identity"

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.produced = 0

    def _count(self, piece: bytes) -> bytes:
        self.produced += len(piece)
        if self.produced > self.limit:
            raise DecodeLimit(f"{self.name} output exceeds {self.limit} bytes")
        return piece

    def feed(self, data: bytes) -> Iterator[bytes]:
        if data:
            yield self._count(data)

    def finish(self) -> Iterator[bytes]:
        return iter(())


class _Zlib(_Stage):
    """gzip (possibly several members) or deflate (zlib-wrapped, or raw as some servers send)."""

    def __init__(self, limit: int, name: str) -> None:
        super().__init__(limit)
        self.name = name
        self._wbits = 16 + zlib.MAX_WBITS if name == "gzip" else zlib.MAX_WBITS
        self._obj = _inflate.decompressobj(self._wbits)
        self._seen_input = False

    def _run(self, data: bytes) -> Iterator[bytes]:
        while data:
            try:
                out = self._obj.decompress(data, CHUNK)
            except _INFLATE_ERRORS as exc:
                if self.name == "deflate" and not self._seen_input and self._wbits > 0:
                    # "deflate" is often raw DEFLATE without the zlib header.
                    self._wbits = -zlib.MAX_WBITS
                    self._obj = _inflate.decompressobj(self._wbits)
                    continue
                raise DecodeFailed(f"bad {self.name} data: {exc}") from exc
            self._seen_input = True
            if out:
                yield self._count(out)
            if self._obj.eof:
                rest = self._obj.unused_data.lstrip(b"\x00")
                if self.name == "gzip" and rest.startswith(b"\x1f\x8b"):
                    self._obj = _inflate.decompressobj(self._wbits)  # next gzip member
                    data = rest
                    continue
                return  # trailing garbage after the stream is ignored, as browsers do
            data = self._obj.unconsumed_tail

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._obj.eof and not (self.name == "gzip" and data.startswith(b"\x1f\x8b")):
            return
        if self._obj.eof:
            self._obj = _inflate.decompressobj(self._wbits)
        yield from self._run(data)

    def finish(self) -> Iterator[bytes]:
        if not self._seen_input:
            return
        out = self._obj.flush()
        if out:
            yield self._count(out)
        if not self._obj.eof:
            raise DecodeFailed(f"truncated {self.name} data")


class _Brotli(_Stage):
    name = "br"

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self._obj = brotli.Decompressor()
        self._seen_input = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data or self._obj.is_finished():
            return  # trailing bytes after the stream end are ignored
        self._seen_input = True
        try:
            out = self._obj.process(data, output_buffer_limit=_BROTLI_LIMIT)
            stalls = 0
            # can_accept_more_data() only says the input was consumed; decoded output can
            # still be pending, so drain with empty input until a call yields nothing.
            while True:
                if out:
                    stalls = 0
                    yield self._count(out)
                elif self._obj.can_accept_more_data():
                    return
                else:
                    stalls += 1
                    if stalls > 3:
                        raise DecodeFailed("br decoder made no progress")
                out = self._obj.process(b"", output_buffer_limit=_BROTLI_LIMIT)
        except brotli.error as exc:
            raise DecodeFailed(f"bad br data: {exc}") from exc

    def finish(self) -> Iterator[bytes]:
        if self._seen_input and not self._obj.is_finished():
            raise DecodeFailed("truncated br data")
        return iter(())


class _ZstdSink:
    """Receives zstd output; raising here aborts the decompressor mid-write (bomb stop)."""

    def __init__(self, stage: _Zstd) -> None:
        self.stage = stage
        self.pieces: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.pieces.append(self.stage._count(bytes(data)))
        return len(data)


class _Zstd(_Stage):
    name = "zstd"

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self._sink = _ZstdSink(self)
        # zstandard's decompressobj has no max_length; its stream_writer hands output to
        # our sink in write_size pieces, and the sink stops it at the limit.
        self._writer = zstandard.ZstdDecompressor().stream_writer(self._sink, write_size=CHUNK)
        self._head = b""
        self._expected: int | None = None

    def feed(self, data: bytes) -> Iterator[bytes]:
        if not data:
            return
        if self._expected is None and len(self._head) < 18:
            self._head += data[:18]
            self._expected = _frame_content_size(self._head)
        try:
            self._writer.write(data)
        except zstandard.ZstdError as exc:
            raise DecodeFailed(f"bad zstd data: {exc}") from exc
        pieces, self._sink.pieces = self._sink.pieces, []
        yield from pieces

    def finish(self) -> Iterator[bytes]:
        # Truncation is only detectable when the frame header declares its size.
        if self._expected is not None and self.produced < self._expected:
            raise DecodeFailed("truncated zstd data")
        return iter(())


def _frame_content_size(head: bytes) -> int | None:
    try:
        size = zstandard.get_frame_parameters(head).content_size
    except zstandard.ZstdError:
        return None
    return None if size == zstandard.CONTENTSIZE_UNKNOWN else size


def _make_stage(coding: str, limit: int) -> _Stage:
    if coding in ("gzip", "x-gzip"):
        return _Zlib(limit, "gzip")
    if coding == "deflate":
        return _Zlib(limit, "deflate")
    if coding == "br":
        return _Brotli(limit)
    if coding == "zstd":
        return _Zstd(limit)
    if coding in ("identity", ""):
        return _Stage(limit)
    raise DecodeFailed(f"unsupported content coding {coding!r}")


class BodyDecoder:
    """Undo ``Content-Encoding`` codings (listed in the order they were applied).

    ``limit`` caps the output of every stage, so neither the final body nor any
    intermediate layer of stacked codings can grow past it by more than one CHUNK.
    """

    def __init__(self, codings: list[str], limit: int) -> None:
        # Decode in reverse order of application: "gzip, br" means br is undone first.
        self.codings = [c for c in codings if c not in ("identity", "")]
        self._stages = [_make_stage(c, limit) for c in reversed(self.codings)]

    def _through(self, index: int, pieces: Iterator[bytes]) -> Iterator[bytes]:
        if index == len(self._stages):
            yield from pieces
            return
        stage = self._stages[index]
        for piece in pieces:
            yield from self._through(index + 1, stage.feed(piece))

    def feed(self, data: bytes) -> Iterator[bytes]:
        """Decoded pieces for this raw chunk, produced lazily."""
        return self._through(0, iter((data,)))

    def finish(self) -> Iterator[bytes]:
        """Flush every stage in order, checking none was truncated."""
        for index, stage in enumerate(self._stages):
            yield from self._through(index + 1, stage.finish())


_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_GZIP_TYPES = frozenset({"application/gzip", "application/x-gzip", "application/octet-stream"})
_SNIFF = 1024
_BINARY_MAGIC = (  # PDF, PNG, GIF, JPEG, ZIP (docx, epub), RIFF (webp), ICO
    b"%PDF-", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"RIFF", b"\x00\x00\x01\x00",
)
_HTML_SNIFF_RE = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|meta|title|div|p|article|script|!--)[\s>/]",
    re.IGNORECASE,
)


def media_type(value: str | None) -> tuple[str | None, str | None]:
    """(media type, charset) from a Content-Type header value."""
    if not value:
        return None, None
    kind, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, val = param.partition("=")
        if name.strip().lower() == "charset":
            charset = val.strip().strip("\"'") or None
    return kind.strip().lower() or None, charset


def _is_textish(media: str) -> bool:
    return (
        media.startswith("text/")
        or media in ("application/xml", "application/json", "application/x-rss+xml")
        or media.endswith(("+xml", "+json"))
    )


def refuse_declared_type(media: str | None, *, html_only: bool) -> str | None:
    """Why a declared Content-Type is refused before reading the body, or None if it may pass.

    ``fetch`` wants HTML/XHTML; ``fetch_bytes`` any text, or gzip (a .xml.gz sitemap) whose
    body is then checked for the gzip magic. A missing type is decided by sniffing.
    """
    if media is None:
        return None
    if html_only:
        return None if media in _HTML_TYPES else f"content type {media!r} is not HTML"
    if _is_textish(media) or media in _GZIP_TYPES:
        return None
    return f"content type {media!r} is not text"


class BodyReader:
    """Accumulates the decoded body under the caps, sniffing its type on the way."""

    def __init__(
        self,
        codings: list[str],
        max_bytes: int,
        media: str | None,
        html_only: bool,
        fail: Callable[[str, str], Exception],
    ) -> None:
        self._fail = fail  # (message, kind) -> the error to raise; the fetcher adds URL/status
        self._codings = codings
        self._max = max_bytes
        self._media = media
        self._html_only = html_only
        self._decoder: BodyDecoder | None = None
        self._head = b""  # raw bytes held until the gzip magic check can be made
        self._raw = 0
        self._parts: list[bytes] = []
        self._size = 0
        self._sniffed = False
        self._gzip_sniffed = False
        self.body = b""

    def feed(self, chunk: bytes) -> None:
        self._raw += len(chunk)
        if self._raw > self._max:
            raise self._fail(f"body exceeds the {self._max}-byte cap", "too_large")
        if self._decoder is None:
            self._head += chunk
            if len(self._head) < len(GZIP_MAGIC):
                return
            chunk, self._head = self._head, b""
            self._start(chunk)
        self._take(self._decoder.feed(chunk))

    def _start(self, first: bytes) -> None:
        codings = self._codings
        if not codings and first.startswith(GZIP_MAGIC):
            # Gzip without Content-Encoding (.gz sitemaps, misconfigured servers).
            codings, self._gzip_sniffed = ["gzip"], True
        try:
            self._decoder = BodyDecoder(codings, self._max)
        except DecodeFailed as exc:
            raise self._fail(str(exc), "decoding") from exc

    def _take(self, pieces) -> None:
        try:
            for piece in pieces:
                self._size += len(piece)
                if self._size > self._max:
                    raise self._fail(f"decoded body exceeds the {self._max}-byte cap", "too_large")
                self._parts.append(piece)
                if not self._sniffed and self._size >= _SNIFF:
                    self._sniff()
        except DecodeLimit as exc:
            raise self._fail(f"decoded body exceeds the {self._max}-byte cap", "too_large") from exc
        except DecodeFailed as exc:
            raise self._fail(str(exc), "decoding") from exc

    def finish(self) -> None:
        if self._decoder is None:
            if not self._head:
                return
            self._start(self._head)
            self._take(self._decoder.feed(self._head))
        self._take(self._decoder.finish())
        if not self._sniffed and self._size:
            self._sniff()
        self.body = b"".join(self._parts)
        self._parts = []

    def _sniff(self) -> None:
        self._sniffed = True
        head = b"".join(self._parts)[:_SNIFF]
        if head.startswith(_BINARY_MAGIC):
            raise self._fail("body is binary (PDF, image or archive), not a page", "content_type")
        if self._html_only:
            if self._media is None and not _HTML_SNIFF_RE.search(head):
                raise self._fail("no Content-Type and the body does not look like HTML", "content_type")
        elif self._media in _GZIP_TYPES and not self._gzip_sniffed:
            raise self._fail(f"content type {self._media!r} is not text", "content_type")
