"""Every article in knowledge/ is well-formed: a server admin can rely on what the bot cites."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from tests.conftest import ROOT

KNOWLEDGE = ROOT / "knowledge"
ARTICLES = sorted(KNOWLEDGE.glob("*.md"))
REQUIRED = ("title", "url", "publisher", "published", "jurisdiction", "kind", "status_as_of", "tags")
JURISDICTIONS = {
    "CN", "US", "EU", "DE", "UK", "JP", "IN", "CA", "AU", "KR", "INTL",
    "IE", "NZ", "HK", "ZA", "BR", "SG", "IL", "IT", "FR",
}
# One vocabulary: a lawsuit or court decision is a "case"; a proposal not in force is a "bill";
# platform terms and model licences are "terms"; contracts and licensing deals are "agreement";
# technical protocols are "standard".
KINDS = {"case", "statute", "bill", "regulation", "guidance", "report", "terms", "agreement", "standard", "overview"}


def front_matter(path: Path) -> tuple[dict[str, Any], str]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n"), f"{path.name}: no front matter"
    head, _, body = text[4:].partition("\n---\n")
    data = yaml.safe_load(head)
    assert isinstance(data, dict), f"{path.name}: front matter is not a mapping"
    return data, body


def well_formed_url(url: object) -> bool:
    parsed = urlparse(str(url))
    return parsed.scheme == "https" and "." in parsed.netloc and " " not in str(url)


def iso_date(value: object) -> bool:
    if isinstance(value, dt.date):
        return True
    try:
        dt.date.fromisoformat(str(value))
    except ValueError:
        return False
    return True


def test_there_are_enough_articles_across_jurisdictions() -> None:
    assert len(ARTICLES) >= 40
    found = {front_matter(p)[0]["jurisdiction"] for p in ARTICLES}
    assert found >= {"CN", "US", "EU", "DE", "UK", "JP", "IN", "CA", "AU", "KR"}


@pytest.mark.parametrize("path", ARTICLES, ids=lambda p: p.name)
def test_article_is_well_formed(path: Path) -> None:
    meta, body = front_matter(path)
    missing = [key for key in REQUIRED if key not in meta or meta[key] in (None, "")]
    assert not missing, f"missing {missing}"
    assert meta["jurisdiction"] in JURISDICTIONS
    assert meta["kind"] in KINDS
    assert iso_date(meta["published"]) and iso_date(meta["status_as_of"])
    assert well_formed_url(meta["url"]), meta["url"]
    assert all(well_formed_url(u) for u in meta.get("urls") or [])
    assert isinstance(meta["tags"], list) and meta["tags"]
    words = len(body.split())
    assert 200 <= words <= 1200, f"{words} words"
    assert body.lstrip().startswith("# ")
    sources = re.search(r"^## Sources\s*$(.*)", body, re.M | re.S)
    assert sources, "no Sources section"
    listed = re.findall(r"https://\S+", sources.group(1))
    assert listed and all(well_formed_url(u.rstrip(").,>")) for u in listed)


def test_titles_are_unique() -> None:
    titles = [front_matter(p)[0]["title"] for p in ARTICLES]
    assert len(titles) == len(set(titles))


def test_the_founding_case_is_covered() -> None:
    meta, body = front_matter(KNOWLEDGE / "cn-li-v-liu-2023.md")
    assert str(meta["published"]) == "2023-11-27" and meta["jurisdiction"] == "CN"
    assert "北京互联网法院" in body and "Stable Diffusion" in body
