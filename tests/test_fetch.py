"""Sources from the web: fetching a page or PDF within limits, never into a private network.

Every server here is a real HTTP server on 127.0.0.1 started by the test. Because loopback is
exactly what the fetcher refuses by default, tests that want a page allow private addresses
explicitly; tests of the address checks give the fetcher a `Network` whose names resolve to
chosen addresses and whose every connection leads to the local server.
"""

from __future__ import annotations

import datetime as dt
import gzip
import ipaddress
import ssl
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import yaml

from bot.config import Settings
from bot.core.errors import SourceError
from bot.core.types import Status
from bot.index.indexer import Indexer
from bot.knowledge import fetch, loader, safe_http
from bot.rag.engine import Engine
from tests.helpers import ARTICLE, TLS_CERT, Site, minimal_pdf

PUBLIC = "93.184.215.14"  # a public address; the test network routes it to the local server


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site()
    yield server
    server.close()


class TestNetwork(safe_http.Network):
    """Names resolve to the addresses given; every connection goes to the local server."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, site: Site, names: dict[str, list[str]]) -> None:
        self.site = site
        self.names = names
        self.resolved: list[str] = []
        self.dialled: list[str] = []

    def resolve(self, host: str, port: int) -> list[safe_http.IPAddress]:
        self.resolved.append(host)
        if host in self.names:
            return [ipaddress.ip_address(a) for a in self.names[host]]
        return super().resolve(host, port)  # address literals

    def address_for(self, ip: safe_http.IPAddress, port: int) -> tuple[str, int]:
        self.dialled.append(str(ip))
        return "127.0.0.1", self.site.port


class NoNetwork(safe_http.Network):
    """Fails the test if the fetcher tries to look anything up."""

    def resolve(self, host: str, port: int) -> list[safe_http.IPAddress]:
        raise AssertionError(f"the fetcher looked up {host}")


# -- which addresses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("172.31.255.254", False),
        ("192.168.1.10", False),
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("169.254.169.254", False),  # cloud metadata service
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),  # noqa: S104 - an address to classify, not one to bind
        ("224.0.0.1", False),  # multicast
        ("240.0.0.1", False),  # reserved
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("fc00::1", False),
        ("fd12:3456::1", False),
        ("fe80::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("::ffff:10.0.0.1", False),
        ("::ffff:192.168.0.1", False),
        ("2002:7f00:1::", False),  # 6to4 around 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 around 10.0.0.1
        ("2001:db8::1", False),  # documentation
        ("93.184.215.14", True),
        ("8.8.8.8", True),
        ("1.1.1.1", True),
        ("2606:4700:4700::1111", True),
        ("2a00:1450:4001:81c::200e", True),
        ("::ffff:8.8.8.8", True),
        ("64:ff9b::808:808", True),  # NAT64 around a public address
    ],
)
def test_address_classification(address: str, public: bool) -> None:
    assert safe_http.is_public_address(address) is public
    assert safe_http.is_public_address(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/file.pdf",
        "file:///etc/passwd",
        "gopher://example.org/",
        "javascript:alert(1)",
        "example.org/page",
        "http:///nohost",
        "http://exa mple.org/",
        "http://user:secret@example.org/",
    ],
)
def test_only_http_and_https_addresses_are_fetched(url: str) -> None:
    with pytest.raises(SourceError, match=r"Only http and https|no host name|spaces|user name"):
        safe_http.fetch_source(url, allow_private=True, network=NoNetwork())


# -- private addresses ------------------------------------------------------------------------------


def test_loopback_is_refused_by_default_and_fetched_only_when_allowed(site: Site) -> None:
    url = site.page("/page", ARTICLE)

    with pytest.raises(SourceError, match="That address points to a private network"):
        safe_http.fetch_source(url)
    assert site.requests == []  # refused before connecting

    fetched = safe_http.fetch_source(url, allow_private=True)
    assert fetched.final_url == url and fetched.content_type == "text/html"
    assert fetched.title == "Harlow v. Brightline Records: no copyright in a song written by AI"
    assert fetched.data == ARTICLE.encode()
    assert fetched.fetched_at.tzinfo is dt.UTC


def test_a_public_name_is_fetched_from_the_checked_address_with_its_own_host_header(site: Site) -> None:
    site.page("/article", ARTICLE)
    network = TestNetwork(site, {"news.test": [PUBLIC]})

    fetched = safe_http.fetch_source(f"http://news.test:{site.port}/article", network=network)

    assert fetched.final_url == f"http://news.test:{site.port}/article"
    assert network.dialled == [PUBLIC]
    assert site.requests == [("/article", f"news.test:{site.port}")]


@pytest.mark.parametrize(
    "target",
    [
        "http://intranet.test:{port}/secret",  # a name that resolves to 10.0.0.7
        "http://127.0.0.1:{port}/secret",
        "http://[::1]:{port}/secret",
        "http://[::ffff:127.0.0.1]:{port}/secret",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0:{port}/secret",
    ],
)
def test_a_redirect_into_a_private_network_is_refused(site: Site, target: str) -> None:
    site.redirect("/start", target.format(port=site.port))
    network = TestNetwork(site, {"news.test": [PUBLIC], "intranet.test": ["10.0.0.7"]})

    with pytest.raises(SourceError, match="That address points to a private network"):
        safe_http.fetch_source(f"http://news.test:{site.port}/start", network=network)

    assert site.paths() == ["/start"]  # the private hop was never requested
    assert network.dialled == [PUBLIC]


def test_a_redirect_to_another_scheme_is_refused(site: Site) -> None:
    site.redirect("/start", "file:///etc/passwd")
    network = TestNetwork(site, {"news.test": [PUBLIC]})
    with pytest.raises(SourceError, match="Only http and https"):
        safe_http.fetch_source(f"http://news.test:{site.port}/start", network=network)


def test_a_name_with_any_private_address_among_its_addresses_is_refused(site: Site) -> None:
    site.page("/page", ARTICLE)
    network = TestNetwork(site, {"mixed.test": [PUBLIC, "10.0.0.1"]})
    with pytest.raises(SourceError, match="private network"):
        safe_http.fetch_source(f"http://mixed.test:{site.port}/page", network=network)
    assert network.dialled == [] and site.requests == []


def test_the_address_checked_is_the_address_connected_to(site: Site) -> None:
    """A name that turns private after the check (DNS rebinding) is not looked up a second time."""
    site.page("/page", ARTICLE)

    class Rebinding(TestNetwork):
        def resolve(self, host: str, port: int) -> list[safe_http.IPAddress]:
            answer = PUBLIC if not self.resolved else "127.0.0.1"
            self.resolved.append(host)
            return [ipaddress.ip_address(answer)]

    network = Rebinding(site, {})
    safe_http.fetch_source(f"http://rebind.test:{site.port}/page", network=network)
    assert network.resolved == ["rebind.test"] and network.dialled == [PUBLIC]


def test_https_checks_the_certificate_against_the_name_while_connecting_to_the_address(
    tmp_path: Path,
) -> None:
    site = Site(tls=tmp_path)
    try:
        site.page("/page", ARTICLE)
        trusted = ssl.create_default_context(cadata=TLS_CERT)
        network = TestNetwork(site, {"secure.test": [PUBLIC], "other.test": [PUBLIC]})

        fetched = safe_http.fetch_source(
            f"https://secure.test:{site.port}/page", network=network, ssl_context=trusted
        )
        assert fetched.data == ARTICLE.encode()
        assert site.requests == [("/page", f"secure.test:{site.port}")]  # SNI and Host: the name
        assert network.dialled == [PUBLIC]  # the connection: the checked address

        with pytest.raises(SourceError, match="The server's security certificate is not valid"):
            safe_http.fetch_source(
                f"https://other.test:{site.port}/page", network=network, ssl_context=trusted
            )
        with pytest.raises(SourceError, match="The server's security certificate is not valid"):
            safe_http.fetch_source(f"https://secure.test:{site.port}/page", network=network)  # untrusted
        assert len(site.requests) == 1
    finally:
        site.close()


def test_redirects_are_followed_to_the_page(site: Site) -> None:
    site.redirect("/old", "/moved", status=301)
    site.redirect("/moved", f"http://news.test:{site.port}/article", status=308)
    site.page("/article", ARTICLE)
    network = TestNetwork(site, {"news.test": [PUBLIC]})

    fetched = safe_http.fetch_source(f"http://news.test:{site.port}/old", network=network)

    assert fetched.final_url == f"http://news.test:{site.port}/article"
    assert site.paths() == ["/old", "/moved", "/article"]


def test_more_than_five_redirects_are_refused(site: Site) -> None:
    site.redirect("/loop", "/loop")
    with pytest.raises(SourceError, match="redirected more than 5 times"):
        safe_http.fetch_source(site.url("/loop"), allow_private=True)
    assert site.paths() == ["/loop"] * 6


# -- size and time ----------------------------------------------------------------------------------


def test_a_body_that_never_ends_is_cut_off_at_the_size_limit(site: Site) -> None:
    def endless(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        chunk = b"<p>" + b"x" * 65533
        while not site.stop.is_set():  # no Content-Length, no end: only the client can stop it
            handler.wfile.write(chunk)
            site.sent += len(chunk)

    site.routes["/huge"] = endless

    with pytest.raises(SourceError, match=r"The page is larger than 100 KB"):
        safe_http.fetch_source(site.url("/huge"), allow_private=True, max_bytes=100 * 1024, timeout=60)

    assert site.hung_up.wait(10)  # the client hung up while the server was still sending
    assert site.sent >= 100 * 1024


def test_a_declared_size_over_the_limit_is_refused_before_reading(site: Site) -> None:
    site.page("/big", "<p>small really</p>", content_length=str(50 * 1024 * 1024))
    with pytest.raises(SourceError, match=r"The page is larger than 10 MB"):
        safe_http.fetch_source(site.url("/big"), allow_private=True)


def test_a_compressed_body_is_limited_by_its_decoded_size(site: Site) -> None:
    bomb = gzip.compress(b"<p>" + b"a" * (5 * 1024 * 1024))
    assert len(bomb) < 100 * 1024
    site.page("/bomb", bomb, content_encoding="gzip")
    with pytest.raises(SourceError, match=r"larger than 100 KB"):
        safe_http.fetch_source(site.url("/bomb"), allow_private=True, max_bytes=100 * 1024)


def test_a_compressed_page_is_decoded(site: Site) -> None:
    site.page("/gz", gzip.compress(ARTICLE.encode()), content_encoding="gzip")
    assert safe_http.fetch_source(site.url("/gz"), allow_private=True).data == ARTICLE.encode()


def test_a_server_that_never_answers_times_out(site: Site) -> None:
    def silent(handler: BaseHTTPRequestHandler) -> None:
        site.stop.wait(30)

    site.routes["/silent"] = silent
    with pytest.raises(SourceError, match=r"The server took too long \(the limit is 0.5 s\)"):
        safe_http.fetch_source(site.url("/silent"), allow_private=True, timeout=0.5)


def test_a_server_that_trickles_forever_hits_the_total_time_limit(site: Site) -> None:
    """Each byte arrives well within a read timeout; only a deadline for the whole fetch ends it."""

    def trickle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        for _ in range(500):  # 10 s of one byte at a time; then the page ends and would be returned
            if site.stop.wait(0.02):
                break
            handler.wfile.write(b"x")

    site.routes["/trickle"] = trickle
    with pytest.raises(SourceError, match="The server took too long"):
        safe_http.fetch_source(site.url("/trickle"), allow_private=True, timeout=0.5)


def test_http_errors_are_reported_plainly(site: Site) -> None:
    with pytest.raises(SourceError, match="The server answered 404 Not Found"):
        safe_http.fetch_source(site.url("/missing"), allow_private=True)


def test_a_closed_port_is_reported_plainly(site: Site) -> None:
    closed = Site()
    url = closed.url("/x")
    closed.close()
    with pytest.raises(SourceError, match="Could not connect to the server"):
        safe_http.fetch_source(url, allow_private=True)


# -- storing ----------------------------------------------------------------------------------------


def test_a_page_is_stored_as_markdown_with_front_matter_and_its_readable_text(
    site: Site, tmp_path: Path
) -> None:
    url = site.page("/news/harlow-ruling", ARTICLE)
    kb = tmp_path / "knowledge"

    path = fetch.add_url(kb, url, allow_private=True)

    assert path.parent == kb.resolve() and path.suffix == ".md"
    assert path.name.startswith("127-0-0-1-news-harlow-ruling-")
    meta, body_start = loader.parse_front_matter(path.read_text(encoding="utf-8"))
    fetched = dt.date.fromisoformat(meta.pop("fetched"))
    assert abs((dt.datetime.now(dt.UTC).date() - fetched).days) <= 1
    assert meta == {
        "title": "Harlow v. Brightline Records: no copyright in a song written by AI",
        "url": url,
        "publisher": "127.0.0.1",
        "published": "",
        "jurisdiction": "INTL",
        "kind": "news",
        "tags": [],
    }
    body = path.read_text(encoding="utf-8")[body_start:]
    words = " ".join(body.split())
    assert "a song composed entirely by an AI model, with no human choosing its melody or words" in words
    for gone in ("SCRIPT-TEXT-MUST-GO", "NAV-TEXT-MUST-GO", "FOOTER-TEXT-MUST-GO", "font-family"):
        assert gone not in body
    # the loader reads it back as a source with that metadata
    doc = loader.load_file(kb, path)
    assert doc.meta["url"] == url and doc.meta["jurisdiction"] == "INTL"

    with pytest.raises(SourceError, match=f"This address was already added as {path.name}"):
        fetch.add_url(kb, url, allow_private=True)


def test_given_metadata_wins_and_bad_metadata_is_refused_before_fetching(site: Site, tmp_path: Path) -> None:
    url = site.page("/p", ARTICLE)
    path = fetch.add_url(
        tmp_path,
        url,
        allow_private=True,
        title="Harlow ruling",
        publisher="Example Law News",
        published="2025-06-30",
        jurisdiction="us",
    )
    meta, _ = loader.parse_front_matter(path.read_text(encoding="utf-8"))
    assert (meta["title"], meta["publisher"], meta["published"], meta["jurisdiction"]) == (
        "Harlow ruling",
        "Example Law News",
        "2025-06-30",
        "US",
    )

    requests = len(site.requests)
    with pytest.raises(SourceError, match="ISO date"):
        fetch.add_url(tmp_path, site.url("/other"), allow_private=True, published="30/06/2025")
    assert len(site.requests) == requests


def test_a_page_in_another_charset_is_stored_as_utf8(site: Site, tmp_path: Path) -> None:
    html = "<html><head><title>Café ruling</title></head><body><p>The café owner lost.</p></body></html>"
    url = site.page("/latin", html.encode("iso-8859-1"), content_type="text/html; charset=iso-8859-1")
    text = fetch.add_url(tmp_path, url, allow_private=True).read_text(encoding="utf-8")
    assert "title: Café ruling" in text and "The café owner lost." in text


def test_a_pdf_is_stored_as_it_is_with_a_sidecar(site: Site, tmp_path: Path) -> None:
    pdf = minimal_pdf("The tribunal protected the AI assisted drawing.")
    url = site.page("/files/ruling.pdf", pdf, content_type="application/pdf")
    kb = tmp_path / "knowledge"

    path = fetch.add_url(kb, url, allow_private=True, jurisdiction="JP")

    assert path.suffix == ".pdf" and path.read_bytes() == pdf
    sidecar = yaml.safe_load(path.with_name(path.name + ".meta.yaml").read_text(encoding="utf-8"))
    assert sidecar["url"] == url and sidecar["title"] == "127.0.0.1/files/ruling.pdf"
    assert sidecar["jurisdiction"] == "JP" and sidecar["kind"] == "news" and sidecar["fetched"]
    texts, failures = loader.load_all(kb)
    assert failures == []
    assert "The tribunal protected the AI assisted drawing." in texts[0].text
    assert texts[0].meta["url"] == url


def test_other_content_types_and_empty_pages_are_refused(site: Site, tmp_path: Path) -> None:
    png = site.page("/image.png", b"\x89PNG\r\n\x1a\n....", content_type="image/png")
    with pytest.raises(SourceError, match="That address serves image/png, not a web page"):
        fetch.add_url(tmp_path, png, allow_private=True)
    empty = site.page("/app", "<html><body><script>render()</script></body></html>")
    with pytest.raises(SourceError, match="no readable text"):
        fetch.add_url(tmp_path, empty, allow_private=True)
    assert list(tmp_path.iterdir()) == []


def test_a_fetched_page_is_indexed_and_cited(site: Site, kb: Path, indexer: Indexer) -> None:
    url = site.page("/news/harlow", ARTICLE)
    path = fetch.add_url(kb, url, allow_private=True, jurisdiction="US")

    report = indexer.reindex()
    assert report.failed == []
    engine = Engine(indexer.settings, embeddings=indexer.embeddings.inner, client=indexer.client)
    result = engine.answer(
        "Is a song composed entirely by AI protected by copyright in Harlow v. Brightline Records?"
    )

    assert result.status is Status.ANSWERED
    cited = [c for c in result.citations if c.source == f"knowledge/{path.name}"]
    assert cited, [c.source for c in result.citations]
    assert cited[0].url == url and cited[0].jurisdiction == "US"
    assert cited[0].title == "Harlow v. Brightline Records: no copyright in a song written by AI"
    assert cited[0].quote in path.read_text(encoding="utf-8")


def test_settings_options_read_the_fetch_settings(make_settings: Callable[..., Settings]) -> None:
    assert fetch.settings_options(make_settings()) == {
        "allow_private": False,
        "max_bytes": 10 * 1024 * 1024,
        "timeout": 20.0,
    }
    configured = make_settings(fetch_allow_private=True, fetch_max_bytes=1234, fetch_timeout_seconds=3.5)
    assert fetch.settings_options(configured) == {"allow_private": True, "max_bytes": 1234, "timeout": 3.5}


# A page of plain ASCII that charset_normalizer (what UnicodeDammit guesses with) reads as UTF-16-BE.
ASCII_READ_AS_UTF16 = ".," * 20_000


def test_a_large_ascii_page_without_a_charset_is_read_as_ascii(site: Site, tmp_path: Path) -> None:
    url = site.page("/table.txt", ASCII_READ_AS_UTF16.encode("ascii"), content_type="text/plain")
    text = fetch.add_url(tmp_path, url, allow_private=True).read_text(encoding="utf-8")
    assert ASCII_READ_AS_UTF16 in text


@pytest.mark.parametrize(
    ("data", "charset", "html", "expected"),
    [
        (ASCII_READ_AS_UTF16.encode(), "", False, ASCII_READ_AS_UTF16),
        (ASCII_READ_AS_UTF16.encode(), "", True, ASCII_READ_AS_UTF16),
        ("Café".encode(), "", False, "Café"),  # UTF-8 without a charset
        ("Café".encode("cp1252"), "", False, "Café"),  # not UTF-8: still guessed
        ("Café".encode("iso-8859-1"), "iso-8859-1", False, "Café"),  # the header wins
        ("\ufeffCafé".encode("utf-16"), "", False, "Café"),  # a byte-order mark wins
        (b'<meta charset="iso-8859-1"><p>Caf\xe9</p>', "", True, '<meta charset="iso-8859-1"><p>Café</p>'),
        (b'<meta charset="utf-16"><p>' + b".," * 5000 + b"</p>", "", True, "<p>" + ".," * 5000),
    ],
)
def test_decoding_prefers_what_the_page_says_then_utf8(
    data: bytes, charset: str, html: bool, expected: str
) -> None:
    assert expected in safe_http.decode(data, charset, html=html)
