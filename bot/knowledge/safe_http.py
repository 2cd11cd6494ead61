"""Fetching a web page or PDF safely: the part of the bot an admin can point anywhere.

`fetch_source` follows at most `MAX_REDIRECTS` redirects and returns what the address served; it
writes nothing (`bot/knowledge/fetch.py` stores the result in the knowledge folder). Blocking.

It is careful:

- only http and https; at most `MAX_REDIRECTS` redirects, followed here, one hop at a time;
- every connection resolves the host itself, checks EVERY address the name resolves to, and
  connects to a checked address (never resolving twice), so a name cannot be switched to a
  private address between the check and the connection (DNS rebinding). Private, loopback,
  link-local, multicast, reserved and unspecified addresses are refused, IPv4 and IPv6 alike,
  including IPv6 forms that embed an IPv4 address, unless `allow_private=True`;
- TLS still verifies the certificate for the host name (the name, not the address, is sent as
  SNI and Host header); no proxy from the environment is used;
- the size limit is enforced while the body streams in, on the bytes received and again on the
  bytes after gzip/deflate decoding, so a compressed "bomb" stops at the limit too;
- one deadline covers the whole fetch: every connect, TLS handshake, write and read gets at most
  what is left of it, so a server that trickles one byte at a time is cut off as well.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import ipaddress
import logging
import socket
import ssl
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import certifi
import httpcore
import httpx

from bot.core.errors import SourceError
from bot.knowledge import loader
from bot.knowledge.library import MAX_FIELD_CHARS

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_TIMEOUT_SECONDS = 20.0
CONNECT_TIMEOUT_SECONDS = 10.0
MAX_REDIRECTS = 5
USER_AGENT = "ai-copyright-bot/0.1 (fetches a source an admin asked for)"
ACCEPT = "text/html,application/xhtml+xml,application/pdf;q=0.9,text/plain;q=0.8,*/*;q=0.1"

HTML_TYPES = {"text/html", "application/xhtml+xml"}
TEXT_TYPES = {"text/plain", "text/markdown"}
PDF_TYPES = {"application/pdf", "application/x-pdf"}
REDIRECTS = {301, 302, 303, 307, 308}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Fetched:
    """What an address served, after redirects."""

    final_url: str
    content_type: str  # the media type, lower case, without parameters ("text/html")
    data: bytes  # the body, decoded from gzip/deflate if it was sent compressed
    title: str  # the HTML <title>, "" when there is none or it is not HTML
    fetched_at: dt.datetime  # UTC
    charset: str = ""  # from the Content-Type header, "" when it names none
    text: str = ""  # the readable text of an HTML page, as the loader extracts it; "" otherwise


# -- addresses -------------------------------------------------------------------------------------


def is_public_address(address: str | IPAddress) -> bool:
    """True for an address on the public internet; False for private, loopback, link-local,
    multicast, reserved and unspecified addresses, and for IPv6 addresses that embed such an
    IPv4 address (IPv4-mapped, 6to4, Teredo, NAT64)."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d is a.b.c.d (Python 3.11 misjudges it)
            return is_public_address(ip.ipv4_mapped)
        if ip in _NAT64:  # a NAT64 gateway (DNS64 networks) reaches the embedded IPv4 address
            return is_public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        embedded = [ip.sixtofour] if ip.sixtofour is not None else []
        embedded += list(ip.teredo or ())
        if not all(is_public_address(v4) for v4 in embedded):
            return False
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


class Network:
    """How host names become addresses and addresses become connections.

    The fetcher only ever connects where `address_for` says for an address it has checked. Tests
    replace this with a table of names and a route to their local server.
    """

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as error:
            log.info("Could not resolve %s: %s", host, error)
            raise SourceError(f"Could not find the server {host}.") from None
        out: list[IPAddress] = []
        for info in infos:
            ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])  # drop an IPv6 zone id
            if ip not in out:
                out.append(ip)
        return out

    def address_for(self, ip: IPAddress, port: int) -> tuple[str, int]:
        """Where to open the TCP connection for a checked address."""
        return str(ip), port


# -- fetching --------------------------------------------------------------------------------------


def fetch_source(
    url: str,
    *,
    allow_private: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    network: Network | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> Fetched:
    """GET `url`, following redirects (each hop checked), within the size and time limits.

    Raises SourceError with a message fit to show the user.
    """
    network = network or Network()
    deadline = time.monotonic() + timeout
    backend = _GuardedBackend(network, allow_private=allow_private, deadline=deadline)
    context = ssl_context or ssl.create_default_context(cafile=certifi.where())
    transport = _Transport(httpcore.ConnectionPool(ssl_context=context, network_backend=backend))
    http_timeout = httpx.Timeout(timeout, connect=min(connect_timeout, timeout))
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
    current = _check_address(url)
    with httpx.Client(transport=transport, timeout=http_timeout, headers=headers, trust_env=False) as client:
        for hop in range(MAX_REDIRECTS + 1):
            with _translated(timeout), client.stream("GET", current) as response:
                if response.status_code in REDIRECTS and "location" in response.headers:
                    target = urljoin(current, response.headers["location"])
                    log.info("%s redirects to %s", current, target)
                    current = _check_address(target)
                    continue
                if response.status_code >= 400:
                    reason = f" {response.reason_phrase}" if response.reason_phrase else ""
                    raise SourceError(f"The server answered {response.status_code}{reason}.")
                if not 200 <= response.status_code < 300:
                    raise SourceError(f"The server answered {response.status_code}, not a page.")
                media, charset = _content_type(response.headers.get("content-type", ""))
                data = _read_body(response, max_bytes)
                fetched_at = dt.datetime.now(dt.UTC)
            log.info("Fetched %s (%d bytes, %s) after %d redirects", current, len(data), media, hop)
            text, title = ("", "")
            if media in HTML_TYPES and data.lstrip()[:5] != b"%PDF-":
                text, title = html_text(decode(data, charset, html=True))
            return Fetched(current, media, data, fit_title(title), fetched_at, charset, text)
    raise SourceError(f"The address redirected more than {MAX_REDIRECTS} times.")


def _check_address(url: str) -> str:
    """A URL the fetcher may try: http or https with a host (the address is checked on connect)."""
    url = (url or "").strip()
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise SourceError("That address contains spaces or control characters.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise SourceError("That is not a valid web address.") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise SourceError("Only http and https addresses can be fetched.")
    if not parts.hostname:
        raise SourceError("That address has no host name.")
    if parts.username is not None or parts.password is not None:
        raise SourceError("Addresses with a user name or password in them are not fetched.")
    if len(url) > 2000:
        raise SourceError("The address is longer than 2,000 characters.")
    return url


def _content_type(header: str) -> tuple[str, str]:
    media, _, params = header.partition(";")
    charset = ""
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'")
    return media.strip().lower(), charset


def _read_body(response: httpx.Response, max_bytes: int) -> bytes:
    """The body, refused as soon as it (raw or decoded) passes `max_bytes`."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    decoder: Any = None
    if encoding in ("gzip", "x-gzip"):
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        decoder = _DeflateDecoder()
    elif encoding not in ("", "identity"):
        raise SourceError(f"The server sent the page compressed as {encoding}, which I can't read.")
    received = 0
    out = bytearray()
    for chunk in response.iter_raw():
        received += len(chunk)
        if received > max_bytes:
            raise _too_large(max_bytes)
        if decoder is None:
            out += chunk
            continue
        try:
            # never more than the limit (plus one byte to notice) out of one compressed chunk
            out += decoder.decompress(chunk, max_bytes + 1 - len(out))
        except zlib.error:
            raise SourceError("The server sent a compressed page that is broken.") from None
        if len(out) > max_bytes or decoder.unconsumed_tail:
            raise _too_large(max_bytes)
    if decoder is not None:
        out += decoder.flush()
        if len(out) > max_bytes:
            raise _too_large(max_bytes)
    return bytes(out)


class _DeflateDecoder:
    """`Content-Encoding: deflate`: zlib-wrapped as the standard says, or raw as some servers send."""

    def __init__(self) -> None:
        self._inner: Any = None

    @property
    def unconsumed_tail(self) -> bytes:
        return bytes(self._inner.unconsumed_tail) if self._inner is not None else b""

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._inner is None:
            wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and int.from_bytes(data[:2], "big") % 31 == 0
            self._inner = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        return bytes(self._inner.decompress(data, max_length))

    def flush(self) -> bytes:
        return bytes(self._inner.flush()) if self._inner is not None else b""


def _too_large(max_bytes: int) -> SourceError:
    return SourceError(f"The page is larger than {_size(max_bytes)}; the limit is {_size(max_bytes)}.")


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):g} MB"
    if n >= 1024:
        return f"{n / 1024:g} KB"
    return f"{n} bytes"


@contextlib.contextmanager
def _translated(timeout: float) -> Iterator[None]:
    """Network failures from httpx/httpcore as SourceError with plain words."""
    try:
        yield
    except (httpx.TimeoutException, httpcore.TimeoutException):
        raise SourceError(f"The server took too long (the limit is {timeout:g} s).") from None
    except (httpx.ConnectError, httpcore.ConnectError) as error:
        cause = error.__cause__ or error.__context__
        if isinstance(cause, ssl.SSLCertVerificationError):
            log.info("Certificate refused: %s", cause)
            reason = cause.verify_message or "it could not be verified"
            raise SourceError(f"The server's security certificate is not valid ({reason}).") from None
        raise SourceError("Could not connect to the server.") from None
    except (httpx.InvalidURL, httpcore.UnsupportedProtocol):
        raise SourceError("That is not a valid web address.") from None
    except (httpx.TransportError, httpcore.NetworkError, httpcore.ProtocolError) as error:
        log.info("Fetch failed: %s: %s", type(error).__name__, error)
        raise SourceError("The connection to the server failed before the page arrived.") from None


# -- the guarded connection layer ------------------------------------------------------------------


class _GuardedBackend(httpcore.SyncBackend):
    """Resolves, checks every address, connects to a checked one; all within the deadline."""

    def __init__(self, network: Network, *, allow_private: bool, deadline: float) -> None:
        self.network = network
        self.allow_private = allow_private
        self.deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self.network.resolve(host, port)
        if not addresses:
            raise SourceError(f"Could not find the server {host}.")
        refused = [ip for ip in addresses if not is_public_address(ip)]
        if refused and not self.allow_private:
            log.info("Refused %s: it resolves to %s", host, ", ".join(map(str, refused)))
            raise SourceError(
                "That address points to a private network; the bot only fetches public web pages."
            )
        last: Exception | None = None
        for ip in addresses:
            dial_host, dial_port = self.network.address_for(ip, port)
            try:
                stream = super().connect_tcp(
                    dial_host,
                    dial_port,
                    timeout=_within(timeout, self.deadline),
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as error:
                last = error
                continue
            return _DeadlineStream(stream, self.deadline)
        assert last is not None
        raise last

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise SourceError("Only http and https addresses can be fetched.")


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every operation gets at most what is left of the fetch's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self.inner = inner
        self.deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, _within(timeout, self.deadline, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, _within(timeout, self.deadline, httpcore.WriteTimeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self.inner.start_tls(ssl_context, server_hostname, _within(timeout, self.deadline))
        return _DeadlineStream(inner, self.deadline)

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


def _within(
    timeout: float | None,
    deadline: float,
    expired: type[Exception] = httpcore.ConnectTimeout,
) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the fetch's time limit has passed")
    return left if timeout is None else min(timeout, left)


class _Transport(httpx.BaseTransport):
    """httpx on top of an httpcore pool with our network backend (no proxies, no env settings)."""

    def __init__(self, pool: httpcore.ConnectionPool) -> None:
        self.pool = pool

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        response = self.pool.handle_request(core)
        assert isinstance(response.stream, Iterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self.pool.close()


class _Body(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self.stream = stream

    def __iter__(self) -> Iterator[bytes]:
        yield from self.stream

    def close(self) -> None:
        close = getattr(self.stream, "close", None)
        if close is not None:
            close()


def html_text(html: str) -> tuple[str, str]:
    """(readable text, <title>) of an HTML page, exactly as the loader extracts them from a file."""
    try:
        return loader.html_to_text(html)
    except loader.LoadError as error:
        raise SourceError(f"The page could not be read: {error}") from None


_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# Without a byte-order mark, UTF-16 and UTF-32 are never guessed: a guesser took a large ASCII
# page (and a short cp1252 one) for UTF-16 and the garbled text was stored. Browsers do the same.
_NEVER_GUESSED = [
    f"utf{sep}{bits}{end}"
    for bits in ("16", "32")
    for sep in ("-", "_", "")
    for end in ("", "le", "be", "-le", "-be", "_le", "_be")
]


def decode(data: bytes, charset: str, *, html: bool) -> str:
    """Bytes as text: the header's charset, else a BOM, else an HTML page's <meta charset>, else
    UTF-8 if the bytes are valid UTF-8 (ASCII always is), else a guess (never UTF-16 or UTF-32)."""
    from bs4.dammit import EncodingDetector, UnicodeDammit

    known = [charset] if charset else []
    bom = data.startswith(_BOMS)
    if not known and not bom:
        declared = EncodingDetector.find_declared_encoding(data, is_html=html) if html else None
        if declared and not declared.lower().replace("_", "-").startswith(("utf-16", "utf-32")):
            known = [declared]
        else:
            known = ["utf-8"]  # tried strictly; if the bytes are not UTF-8, the guess follows
    dammit = UnicodeDammit(
        data, known_definite_encodings=known, is_html=html, exclude_encodings=[] if bom else _NEVER_GUESSED
    )
    if dammit.unicode_markup is not None:
        return str(dammit.unicode_markup)
    return data.decode("utf-8", errors="replace")


def fit_title(title: str) -> str:
    title = " ".join("".join(ch if ch.isprintable() else " " for ch in title).split())
    if len(title) > MAX_FIELD_CHARS:
        title = title[: MAX_FIELD_CHARS - 1].rstrip() + "…"
    return title
