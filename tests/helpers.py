"""Helpers shared by several test files: a clean environment for settings, the command line in a
subprocess, a local web server, a minimal PDF, and the data fence of a prompt.

Test files import from here (and from the fixture modules), never from one another.
"""

from __future__ import annotations

import functools
import os
import re
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, MutableMapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, AliasPath
from pydantic_settings import BaseSettings

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
BOT_PY = ROOT / "bot.py"
FIXTURE_KNOWLEDGE = ROOT / "tests" / "fixtures" / "knowledge"

# -- settings from the environment ------------------------------------------------------------------


@functools.cache
def setting_env_names(model: type[BaseSettings] = Settings) -> frozenset[str]:
    """Every environment variable name the settings model reads: each field's name and aliases,
    with and without the model's prefix; lower case when the model ignores case (the default)."""
    config = model.model_config
    prefix = config.get("env_prefix", "")
    names: set[str] = set()
    for field_name, field in model.model_fields.items():
        keys = {field_name}
        for alias in (field.alias, field.validation_alias):
            if isinstance(alias, str):
                keys.add(alias)
            elif isinstance(alias, AliasPath):
                keys.add(str(alias.path[0]))
            elif isinstance(alias, AliasChoices):
                for choice in alias.choices:
                    keys.add(choice if isinstance(choice, str) else str(choice.path[0]))
        names |= keys | {prefix + key for key in keys}
    if not config.get("case_sensitive", False):
        names = {name.lower() for name in names}
    return frozenset(names)


def reads_setting(variable: str, model: type[BaseSettings] = Settings) -> bool:
    """Whether the settings model would read this environment variable."""
    config = model.model_config
    names = setting_env_names(model)
    key = variable if config.get("case_sensitive", False) else variable.lower()
    delimiter = config.get("env_nested_delimiter") or None
    return key in names or (delimiter is not None and key.split(delimiter, 1)[0] in names)


def clear_settings(environ: MutableMapping[str, str], model: type[BaseSettings] = Settings) -> list[str]:
    """Remove every variable the settings model would read; the names removed."""
    removed = [name for name in environ if reads_setting(name, model)]
    for name in removed:
        del environ[name]
    return removed


def without_settings(environ: Mapping[str, str] = os.environ, /, **settings: str) -> dict[str, str]:
    """A copy of the environment with no setting of the bot in it, then `settings` added."""
    out = {k: v for k, v in environ.items() if not reads_setting(k)}
    out.update(settings)
    return out


# -- the command line in a subprocess -------------------------------------------------------------


def bot_command(*args: str, script: Path = BOT_PY) -> list[str]:
    """`python <absolute path>/bot.py args...`: runs from any folder."""
    return [sys.executable, str(script), *args]


def run_bot(
    args: list[str],
    *,
    cwd: Path,
    settings: Mapping[str, str] | None = None,
    timeout: float = 300,
    script: Path = BOT_PY,
) -> subprocess.CompletedProcess[str]:
    """Run the command line as a user would, from `cwd` (never the repository, whose `.env` would
    be read), with none of the developer's settings and only the `settings` given."""
    assert cwd.resolve() != script.resolve().parent, "run the bot outside the repository"
    return subprocess.run(
        bot_command(*args, script=script),
        cwd=cwd,
        env=without_settings(**(settings or {})),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# -- a web server on 127.0.0.1 --------------------------------------------------------------------

Handler = Callable[[BaseHTTPRequestHandler], None]

ARTICLE = """<!doctype html>
<html><head>
<title>Harlow v. Brightline Records: no copyright in a song written by AI</title>
<style>.ad { color: red } body { font-family: serif }</style>
<script>window.trackReader("SCRIPT-TEXT-MUST-GO");</script>
</head><body>
<nav>Home | News | NAV-TEXT-MUST-GO</nav>
<article>
<h1>Harlow v. Brightline Records</h1>
<p>In Harlow v. Brightline Records the district court held that a song composed entirely by an
AI model, with no human choosing its melody or words, has no copyright owner.</p>
<p>The court said the Copyright Act protects only works of human authorship, so the label could
not stop others from copying the AI-generated track.</p>
</article>
<footer>FOOTER-TEXT-MUST-GO</footer>
</body></html>
"""


# A self-signed certificate for "secure.test" (valid 2000-2100) and its key, for the HTTPS tests.
TLS_CERT = """-----BEGIN CERTIFICATE-----
MIIBYzCCAQqgAwIBAgIBATAKBggqhkjOPQQDAjAWMRQwEgYDVQQDDAtzZWN1cmUu
dGVzdDAgFw0wMDAxMDEwMDAwMDBaGA8yMTAwMDEwMTAwMDAwMFowFjEUMBIGA1UE
AwwLc2VjdXJlLnRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAT1+YBi9ffM
Na1tHvS+SGzGsV6WEGxNw7BEEWAvwN2schQ7zhGAMjUvyepFYgzNRuVcPdP8DqKU
vBKQo4U7xNuEo0cwRTAWBgNVHREEDzANggtzZWN1cmUudGVzdDAMBgNVHRMBAf8E
AjAAMB0GA1UdDgQWBBRLABaxi1RmVqAB69B0crUr3vmsBzAKBggqhkjOPQQDAgNH
ADBEAiARM6VjMHd8dAJDhV1WlPBU9edkDwYyXyBNclC/iIWXegIgee5UdwWeQQ2s
2MFP/f7hWwocMGBsu+wxXaNHPX51RiI=
-----END CERTIFICATE-----
"""
TLS_KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgfqwTMFI3FqgMQGeo
/nrIkf84fg9RbvfozQpaDlUtt6ChRANCAAT1+YBi9ffMNa1tHvS+SGzGsV6WEGxN
w7BEEWAvwN2schQ7zhGAMjUvyepFYgzNRuVcPdP8DqKUvBKQo4U7xNuE
-----END PRIVATE KEY-----
"""


class Site:
    """An HTTP server on 127.0.0.1 whose pages each test defines, recording every request."""

    def __init__(self, tls: Path | None = None) -> None:
        self.routes: dict[str, Handler] = {}
        self.requests: list[tuple[str, str]] = []  # (path, Host header)
        self.stop = threading.Event()
        self.hung_up = threading.Event()  # set when the client closed the connection mid-body
        self.sent = 0
        site = self

        class Handle(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append((self.path, self.headers.get("Host", "")))
                route = site.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    self.send_error(404, "Not Found")
                    return
                try:
                    route(self)
                except (BrokenPipeError, ConnectionResetError):
                    site.hung_up.set()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        self.server.daemon_threads = True
        if tls is not None:  # HTTPS with the "secure.test" certificate, files in that folder
            (tls / "cert.pem").write_text(TLS_CERT)
            (tls / "key.pem").write_text(TLS_KEY)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls / "cert.pem", tls / "key.pem")
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    def page(
        self, path: str, body: bytes | str, content_type: str = "text/html; charset=utf-8", **headers: str
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        length = headers.pop("content_length", str(len(data)))

        def send(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", length)
            for key, value in headers.items():
                handler.send_header(key.replace("_", "-"), value)
            handler.end_headers()
            handler.wfile.write(data)

        self.routes[path] = send
        return self.url(path)

    def redirect(self, path: str, location: str, status: int = 302) -> str:
        def send(handler: BaseHTTPRequestHandler) -> None:
            handler.send_response(status)
            handler.send_header("Location", location)
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        self.routes[path] = send
        return self.url(path)

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


# -- files ----------------------------------------------------------------------------------------


def minimal_pdf(text: str) -> bytes:
    """A one-page PDF whose text layer holds `text` (Helvetica, no images)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# -- prompts --------------------------------------------------------------------------------------


def fence_tags(text: str) -> list[str]:
    """The <passages> fence tags in a prompt, however a hostile text spells them."""
    return re.findall(r"<\s*/?\s*passages\b[^>]*>", text, re.I)


# -- knowledge articles ------------------------------------------------------------------------


def article(
    folder: Path,
    name: str,
    *,
    title: str,
    published: str | None,
    jurisdiction: str = "US",
    kind: str = "case",
    tags: str = "[]",
    body: str = "## In short\nA court decided something. It matters.\n",
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["---", f'title: "{title}"', f"url: https://example.org/{name}"]
    if published is not None:
        lines.append(f"published: {published}")
    lines += [
        f"jurisdiction: {jurisdiction}",
        f"kind: {kind}",
        f"tags: {tags}",
        "---",
        f"# {title}",
        "",
        body,
    ]
    path = folder / name
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
