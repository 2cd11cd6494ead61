"""Jurisdictions: the one table of codes, their names, and the words that name them.

A jurisdiction is stored and compared as a short upper-case code ("US", "EU", "CN", "INTL").
Every part of the bot reads codes, names and the words of a question from here: the loader and
the knowledge folder normalise a file's code, the engine a filter, the answers label a quote
("China, 2023: ..."), and the Discord picker lists the names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.text import CJK


@dataclass(frozen=True)
class Jurisdiction:
    code: str
    name: str  # in full, for people choosing one: "United States"
    label: str  # opening a quoted line ("US, 2025: ..."); "" for sources of no one jurisdiction
    words: tuple[str, ...] = ()  # lower-case words and phrases that name it in a question
    offered: bool = True  # listed in Discord's /ask picker when the knowledge folder names none


# In the order the /ask picker lists them.
TABLE: tuple[Jurisdiction, ...] = (
    Jurisdiction(
        "US",
        "United States",
        "US",
        (
            "the us",
            "u.s",
            "usa",
            "united states",
            "america",
            "american",
            "uspto",
            "usco",
            "copyright office",
            "美国",
            "美國",
            "米国",
            "アメリカ",
            "미국",
            "estados unidos",
            "eeuu",
            "ee.uu",
            "états unis",
            "etats unis",
            "vereinigte staaten",
            "stati uniti",
            "federal",
            # states whose own laws the sources cover ("are AI voice clones legal in California?")
            "california",
            "tennessee",
            "new york",
            "illinois",
            "texas",
            "colorado",
            "utah",
        ),
    ),
    Jurisdiction(
        "EU",
        "European Union",
        "EU",
        (
            "eu",
            "european",
            "europe",
            "cjeu",
            "ai act",
            "brussels",
            "欧盟",
            "歐盟",
            "欧州",
            "유럽",
            "europa",
            "europäischen",
            "européenne",
            "europeo",
            "europea",
            "union européenne",
            "unión europea",
        ),
    ),
    Jurisdiction(
        "UK",
        "United Kingdom",
        "UK",
        (
            "the uk",
            "united kingdom",
            "britain",
            "british",
            "england",
            "english",
            "scotland",
            "cdpa",
            "英国",
            "英國",
            "イギリス",
            "영국",
            "royaume uni",
            "reino unido",
            "großbritannien",
            "regno unito",
        ),
    ),
    Jurisdiction(
        "CN",
        "China",
        "China",
        (
            "china",
            "chinese",
            "prc",
            "beijing",
            "shanghai",
            "guangzhou",
            "hangzhou",
            "jiangsu",
            "changshu",
            "zhangjiagang",
            "中国",
            "中國",
            "중국",
            "chine",
            "北京",
            "中华",
        ),
    ),
    Jurisdiction(
        "DE",
        "Germany",
        "Germany",
        (
            "germany",
            "german",
            "munich",
            "münchen",
            "hamburg",
            "gema",
            "德国",
            "德國",
            "ドイツ",
            "독일",
            "deutschland",
            "allemagne",
            "alemania",
            "germania",
        ),
    ),
    Jurisdiction("FR", "France", "France", ("france", "french", "frankreich", "francia", "法国", "フランス")),
    Jurisdiction("JP", "Japan", "Japan", ("japan", "japanese", "日本", "japon", "japón", "giappone", "일본")),
    Jurisdiction(
        "KR",
        "South Korea",
        "South Korea",
        ("korea", "korean", "한국", "韩国", "韓国", "韓國", "corée", "corea", "südkorea"),
    ),
    Jurisdiction("IN", "India", "India", ("india", "indian", "delhi", "印度", "inde", "indien", "インド")),
    Jurisdiction("CA", "Canada", "Canada", ("canada", "canadian", "cipo", "加拿大")),
    Jurisdiction("AU", "Australia", "Australia", ("australia", "australian", "aussie", "澳大利亚")),
    Jurisdiction("SG", "Singapore", "Singapore", ("singapore", "新加坡")),
    Jurisdiction("INTL", "International", ""),
    Jurisdiction("IE", "Ireland", "Ireland", ("ireland", "irish"), offered=False),
    Jurisdiction("NZ", "New Zealand", "New Zealand", ("new zealand",), offered=False),
    Jurisdiction("HK", "Hong Kong", "Hong Kong", ("hong kong", "香港"), offered=False),
    Jurisdiction("ZA", "South Africa", "South Africa", ("south africa",), offered=False),
    Jurisdiction(
        "BR", "Brazil", "Brazil", ("brazil", "brazilian", "brasil", "brésil", "brasilien"), offered=False
    ),
    Jurisdiction("IL", "Israel", "Israel", ("israel", "israeli"), offered=False),
    Jurisdiction("IT", "Italy", "Italy", ("italy", "italian", "italia", "italie", "italien"), offered=False),
)
# Countries the sources have no article of their own on, so that a question naming one is
# known to ask about a place whose rule the sources may not give.
OTHERS: tuple[Jurisdiction, ...] = tuple(
    Jurisdiction(code, name, name, words, offered=False)
    for code, name, words in (
        ("ES", "Spain", ("spain", "españa", "espagne", "spanien")),
        ("NL", "the Netherlands", ("netherlands", "dutch", "holland", "nederland")),
        ("BE", "Belgium", ("belgium", "belgique", "belgië")),
        ("AT", "Austria", ("austria", "österreich", "autriche")),
        ("PT", "Portugal", ("portugal",)),
        ("PL", "Poland", ("poland", "polska", "pologne")),
        ("SE", "Sweden", ("sweden", "swedish", "sverige", "suède")),
        ("DK", "Denmark", ("denmark", "danish", "danmark")),
        ("FI", "Finland", ("finland", "finnish", "suomi")),
        ("GR", "Greece", ("greece", "greek")),
        ("CZ", "Czechia", ("czechia", "czech republic")),
        ("HU", "Hungary", ("hungary", "hungarian")),
        ("RO", "Romania", ("romania", "romanian")),
        ("CH", "Switzerland", ("switzerland", "swiss", "schweiz", "suisse")),
        ("NO", "Norway", ("norway", "norwegian", "norge")),
        (
            "MX",
            "Mexico",
            ("mexico", "méxico", "mexican", "mexique", "mexicana", "mexicano", "mexicanas", "mexicanos"),
        ),
        ("AR", "Argentina", ("argentina", "argentine", "argentino", "argentinos", "argentinas")),
        ("CL", "Chile", ("chile", "chilean", "chileno", "chilena", "chilenos", "chilenas")),
        (
            "CO",
            "Colombia",
            ("colombia", "colombian", "colombiano", "colombiana", "colombianos", "colombianas"),
        ),
        ("RU", "Russia", ("russia", "russian", "россия")),
        ("UA", "Ukraine", ("ukraine", "ukrainian")),
        ("TR", "Turkey", ("turkey", "türkiye", "turkish")),
        ("NG", "Nigeria", ("nigeria", "nigerian")),
        ("KE", "Kenya", ("kenya", "kenyan")),
        ("EG", "Egypt", ("egypt", "egyptian")),
        ("AE", "the United Arab Emirates", ("uae", "united arab emirates", "dubai")),
        ("SA", "Saudi Arabia", ("saudi arabia", "saudi")),
        ("PK", "Pakistan", ("pakistan", "pakistani")),
        ("ID", "Indonesia", ("indonesia", "indonesian")),
        ("MY", "Malaysia", ("malaysia", "malaysian")),
        ("TH", "Thailand", ("thailand", "thai")),
        ("VN", "Vietnam", ("vietnam", "vietnamese", "việt nam")),
        ("PH", "the Philippines", ("philippines", "filipino")),
        ("TW", "Taiwan", ("taiwan", "taiwanese", "台灣", "台湾")),
    )
)
# Member states of the European Union: the EU's rules (the AI Act, the DSM Directive, the
# CJEU's case law) apply there beside their own.
EU_MEMBERS = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)
BY_CODE = {j.code: j for j in (*TABLE, *OTHERS)}


def with_eu(codes: set[str]) -> set[str]:
    """The codes, with the EU's added when one is a member state (its rules apply there too)."""
    return codes | {"EU"} if codes & EU_MEMBERS else set(codes)


OFFERED = tuple(j.code for j in TABLE if j.offered)

# What a code looks like: "US", "EU", "INTL", "US-CA".
CODE = re.compile(r"[A-Z][A-Z-]{1,9}")
_BY_NAME = {j.name.lower(): j.code for j in TABLE}
_ANY = ("ANY", "ALL")


def normalise(value: object) -> str:
    """A code as stored and compared: trimmed and upper case ("us " -> "US"); "" for none."""
    return "" if value is None else str(value).strip().upper()


def is_code(code: str) -> bool:
    """Whether a normalised value has the shape of a code."""
    return CODE.fullmatch(code) is not None


def name(code: str) -> str:
    """The full name for a code ("United States"), or the code itself when the table lacks it."""
    known = BY_CODE.get(normalise(code))
    return known.name if known else code


def in_sentence(code: str) -> str:
    """The name as it stands in a sentence: "the United States", "the European Union", "China"
    (the table's names are for a picker; the others', "the Netherlands", carry their article)."""
    full = name(code)
    return f"the {full}" if full.startswith(("United ", "European ")) else full


def label(code: str) -> str:
    """What opens a quoted line from this jurisdiction ("China"); "" for none or unknown."""
    known = BY_CODE.get(normalise(code))
    return known.label if known else ""


def chosen(value: str | None) -> str | None:
    """The code a person picked or typed: a code ("us") or a name from the picker ("united
    states"); None for no filter (blank, "any", "all"). ValueError when it is neither."""
    text = (value or "").strip()
    if not text:
        return None
    code = _BY_NAME.get(text.lower(), text.upper())
    if code in _ANY:
        return None
    if not is_code(code):
        raise ValueError(f"not a jurisdiction: {text!r}")
    return code


# Codes a question writes in capitals ("US law", "the U.K."), matched with their case: in lower
# case "us" is an ordinary word.
_UPPER_CODES = {
    "US": re.compile(r"\b(?:US|USA|U\.S\.?)(?![\w])"),
    "UK": re.compile(r"\b(?:UK|U\.K\.?)(?![\w])"),
    "EU": re.compile(r"\bEU\b"),
}


def jurisdictions_in(question: str) -> set[str]:
    """Jurisdiction codes a question names ("does China protect AI images but the US not?")."""
    lowered = " " + re.sub(r"[^\w.\u3040-\u9fff\uac00-\ud7af]+", " ", question.lower()) + " "
    found = {code for code, pattern in _UPPER_CODES.items() if pattern.search(question)}
    for jurisdiction in (*TABLE, *OTHERS):
        for word in jurisdiction.words:
            if CJK.search(word):
                if word in lowered:
                    found.add(jurisdiction.code)
            elif f" {word} " in lowered or f" {word}. " in lowered:
                found.add(jurisdiction.code)
    return found
