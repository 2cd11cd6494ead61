"""Every article in knowledge/ is well-formed: a server admin can rely on what the bot cites."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from tests.helpers import ROOT

KNOWLEDGE = ROOT / "knowledge"
ARTICLES = sorted(KNOWLEDGE.glob("*.md"))
REQUIRED = ("title", "url", "publisher", "published", "jurisdiction", "kind", "status_as_of", "tags")
JURISDICTIONS = {
    "CN",
    "US",
    "EU",
    "DE",
    "UK",
    "JP",
    "IN",
    "CA",
    "AU",
    "KR",
    "INTL",
    "IE",
    "NZ",
    "HK",
    "ZA",
    "BR",
    "SG",
    "IL",
    "IT",
    "FR",
}
# One vocabulary: a lawsuit or court decision is a "case"; a proposal not in force is a "bill";
# platform terms and model licences are "terms"; contracts and licensing deals are "agreement";
# technical protocols are "standard".
KINDS = {
    "case",
    "statute",
    "bill",
    "regulation",
    "guidance",
    "report",
    "terms",
    "agreement",
    "standard",
    "overview",
}


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


# --- Coverage, honesty and metadata checks -------------------------------------------------------

# Topics users ask about -> file-name patterns (regular expressions matched against knowledge/*.md
# names). At least one article must exist for each topic. The patterns follow the planned names.
TOPICS: dict[str, str] = {
    # platform terms and model licences
    "Midjourney terms": r"^terms-midjourney",
    "OpenAI terms": r"^terms-openai",
    "Anthropic terms": r"^terms-anthropic",
    "Google terms": r"^terms-google",
    "Adobe Firefly / Adobe Stock": r"^terms-adobe",
    "Stable Diffusion licences": r"^terms-stable-diffusion",
    "FLUX licences": r"^terms-flux",
    "Meta Llama licence": r"^terms-meta-llama",
    "Steam AI disclosure": r"^terms-steam",
    "Amazon KDP AI disclosure": r"^terms-amazon-kdp",
    "AI indemnities": r"indemnit|copyright-commitment",
    # code
    "Copilot lawsuit": r"github-copilot",
    "copyright in AI-written code": r"ai-written-code",
    "open-source licences and training": r"open-source",
    # voice and likeness
    "voice and likeness": r"voice|likeness|elvis|no-fakes|lehrman|personality-rights|ab-2602",
    "deepfake intimate images (TAKE IT DOWN)": r"take-it-down",
    # jurisdictions
    "India computer-generated works": r"^in-.*computer-generated|^in-copyright-act",
    "Japan: is AI output a work": r"^jp-ai-output",
    "UK s.9(3)": r"^uk-cdpa-s9-3",
    "Ireland": r"^ie-",
    "New Zealand / South Africa": r"^nz-|^za-",
    "Hong Kong": r"^hk-",
    "Brazil": r"^br-",
    "Singapore": r"^sg-",
    "Israel": r"^il-",
    "South Korea registration": r"^kr-.*registration",
    # style and outputs
    "style": r"style",
    "characters": r"character",
    "output infringement": r"output-infringe|can-my-ai-output-infringe",
    # foundations
    "Feist originality": r"feist",
    "Burrow-Giles / Naruto": r"burrow-giles|naruto",
    "Copyright Office Compendium": r"compendium",
    "US fair use": r"fair-use",
    "work made for hire": r"work-made-for-hire",
    "EU/UK originality": r"^eu-uk-originality",
    "UK fair dealing": r"fair-dealing",
    "moral rights / Berne": r"berne|moral-rights",
    "China 2020 Copyright Law": r"^cn-copyright-law-2020",
    "personal data and training": r"personal-data|garante",
    "creative-industry contracts": r"contracts",
    "AI licensing deals": r"licensing-deals",
    "opt-out / robots.txt": r"opt-out|robots",
    "C2PA / content credentials": r"c2pa",
    "collective licences": r"collective-licen",
    "owning output under terms vs copyright": r"owning-output",
    "scraping (hiQ v LinkedIn)": r"scraping|hiq",
    "DMCA 1202 and 512": r"dmca",
}


def test_every_topic_has_an_article() -> None:
    names = [p.name for p in ARTICLES]
    missing = [topic for topic, pattern in TOPICS.items() if not any(re.search(pattern, n) for n in names)]
    assert not missing, f"no article yet for: {missing}"


RESEARCH = ROOT.parent / "shared" / "research"
NOTES = [
    RESEARCH / name
    for name in ("ai-copyright-facts.md", "ai-copyright-facts-2.md", "ai-copyright-facts-3.md")
]
SHINGLE = 12
URL_RE = re.compile(r"https?://\S+|\b(?:[\w-]+\.)+(?:com|org|net|gov|eu|uk|de|jp|kr|cn|in|io|ai|au|ca)\b\S*")
# Runs that are names of laws or official titles may be shared with the notes.
ALLOWED_RUNS = (
    "framework act on ai development and establishment of trust",
    "interim measures for the management of generative ai services",
    "measures for labelling ai generated synthetic content",
    "copyright registration guidance works containing material generated by artificial intelligence",
    "in re openai inc copyright infringement litigation",
    "consultation on copyright in the age of generative artificial intelligence",
    "report on copyright and artificial intelligence part 1 digital replicas",
    "report on copyright and ai part 1 digital replicas",
    "report on copyright and ai part 2 copyrightability",
    "part 3 generative ai training pre publication version",
    "suryast u s enterprises llc v perlmutter no 2 26 cv 4999",
    "copyright office compendium third edition 306 and 313 2",
)
TITLE_OVERLAP = 8  # a run is a title if at least this many of its consecutive words come from one


def words_of(text: str) -> list[str]:
    text = URL_RE.sub(" ", text.lower())
    return re.findall(r"[^\W_]+", text)


def shingles(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


@pytest.fixture(scope="module")
def note_shingles() -> set[tuple[str, ...]]:
    present = [p for p in NOTES if p.exists()]
    if not present:
        pytest.skip(f"research notes not found at {RESEARCH} (CI keeps a copy of shared/ beside the clone)")
    found: set[tuple[str, ...]] = set()
    for note in present:
        found |= shingles(words_of(note.read_text(encoding="utf-8")))
    return found


def allowed(run: tuple[str, ...]) -> bool:
    for title in ALLOWED_RUNS:
        title_text = " " + " ".join(words_of(title)) + " "
        for size in range(min(len(run), len(words_of(title))), TITLE_OVERLAP - 1, -1):
            if any(" " + " ".join(run[i : i + size]) + " " in title_text for i in range(len(run) - size + 1)):
                return True
    return False


@pytest.mark.parametrize("path", ARTICLES, ids=lambda p: p.name)
def test_article_does_not_copy_the_research_notes(path: Path, note_shingles: set[tuple[str, ...]]) -> None:
    _, body = front_matter(path)
    copied = [" ".join(run) for run in shingles(words_of(body)) & note_shingles if not allowed(run)]
    assert not copied, (
        f"{len(copied)} runs of {SHINGLE}+ words copied from the notes, e.g. {sorted(copied)[:3]}"
    )


@pytest.mark.parametrize("path", ARTICLES, ids=lambda p: p.name)
def test_questions_and_aliases_are_well_formed(path: Path) -> None:
    meta, _ = front_matter(path)
    if "questions" in meta:
        questions = meta["questions"]
        assert isinstance(questions, list) and 1 <= len(questions) <= 8, questions
        assert all(isinstance(q, str) and q.strip().endswith("?") for q in questions), questions
    if "aliases" in meta:
        aliases = meta["aliases"]
        assert isinstance(aliases, list) and all(isinstance(a, str) and a.strip() for a in aliases), aliases


def bare_domain(url: str) -> bool:
    parsed = urlparse(url.rstrip(").,>"))
    return parsed.path in ("", "/") and not parsed.query


@pytest.mark.parametrize("path", ARTICLES, ids=lambda p: p.name)
def test_no_bare_domain_addresses(path: Path) -> None:
    meta, body = front_matter(path)
    addresses = [str(meta["url"]), *(str(u) for u in meta.get("urls") or [])]
    sources = re.search(r"^## Sources\s*$(.*)", body, re.M | re.S)
    if sources:
        addresses += re.findall(r"https://\S+", sources.group(1))
    bare = [u for u in addresses if bare_domain(u)]
    assert not bare, f"bare-domain addresses: {bare}"


@pytest.mark.parametrize("path", ARTICLES, ids=lambda p: p.name)
def test_article_opens_with_in_short_naming_where_and_when(path: Path) -> None:
    """A quote-only answer shows an article's first sentence first: it must answer, and say
    where and when."""
    _, body = front_matter(path)
    first_section = re.search(r"^## (.+)$", body, re.M)
    assert first_section and first_section.group(1).strip() == "In short"
    opening = body[first_section.end() :].strip().split("\n", 1)[0]
    assert re.search(r"\b(1[89]|20)\d\d\b", opening), f"no year in: {opening[:120]}"
