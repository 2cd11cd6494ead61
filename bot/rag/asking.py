"""What a question asks: the part that carries the ask, cut from greetings, quotes and thanks.

People paste a forum reply into the bot: "> meaningful human authorship. How is this defined?",
"Happy New Year, Sam! Quick question: ...", "Thanks for the PR, much appreciated. Do you own
the rights to this code?". Retrieval should look for the ask, not for every noun around it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from bot.core.text import sentences, tokens
from bot.rag.glossary import GLOSSARY

# Sentences that carry no ask: greetings, thanks, disclaimers about the asker.
_PLEASANTRY = re.compile(
    r"^\W*(hi|hello|hey|hiya|dear|greetings|good (morning|afternoon|evening|day)|happy (new year|holidays)"
    r"|merry christmas|thanks?( you)?|thx|ty|cheers|much appreciated|appreciate (it|any)|sorry|apologies"
    r"|ianal|i am not a lawyer|i'?m not a lawyer|not a lawyer|just curious|quick question|edit|update"
    r"|any help (is|would be) appreciated|thanks in advance|regards|best)\b",
    re.I,
)
# A greeting that ends at the first comma or "!" ("Hi Sharon, ...", "Happy New Year, Sam! ...").
_GREETING_CLAUSE = re.compile(
    r"^\W*(hi|hello|hey|dear|greetings|good (morning|afternoon|evening)|happy new year|happy holidays"
    r"|thanks( a lot)?|thank you)\b[^,!?.\n]{0,40}[,!.]\s*",
    re.I,
)
_PREFIX = re.compile(
    r"^\W*((a )?(quick|simple|dumb|stupid|serious|honest|genuine) )?question( for you)?\s*[:,-]\s*", re.I
)
_LINK = re.compile(r"\[([^\]\[\n]{0,300})\]\((?:[^()\s\[\]]{0,2000})\)")
_URL = re.compile(r"<?https?://[^\s>]{1,2000}>?")
_MENTION = re.compile(r"<@[!&]?\d{1,25}>|@\w{1,40}")
# A forum's tag before a title ("[PubQ] AI language in contracts", "[Question] ..."), no name
_TAG = re.compile(r"(?m)^[ \t]*\[[A-Za-z][\w -]{0,19}\][ \t]*")
_QUESTION_END = re.compile(r"[?？]\s*$")
# The subject's words as people misspell them ("can i copywrite my ai art?", "for commerical
# use"), put right in the ask so that retrieval matches them; the question shown stays as asked.
_MISSPELT = [
    (re.compile(r"\bcopy(?:wr[iy]|ri)te?(s?)\b", re.I), r"copyright\1"),
    (re.compile(r"\bcopy(?:wr[iy]|ri)t(?:ed|ten)\b", re.I), "copyrighted"),
    (re.compile(r"\bcopy(?:wr[iy]|ri)t(?:e)?[ai]ble\b", re.I), "copyrightable"),
    (re.compile(r"\bcopywright(s?)\b", re.I), r"copyright\1"),
    (re.compile(r"\b(?:commerical|commericial|commersial|commerial)(ly)?\b", re.I), r"commercial\1"),
    (re.compile(r"\bli(?:sc?|cs)[ea]n[cs]e(s|d)?\b", re.I), r"license\1"),
]
# Long names of the tools people ask about, whose misspellings ("midnourney", "chatgtp") are put
# right too: a word this close to one (difflib's ratio) is taken for it.
_TOOL_NAMES = {
    "midjourney": "Midjourney",
    "chatgpt": "ChatGPT",
    "copilot": "Copilot",
    "firefly": "Firefly",
    "anthropic": "Anthropic",
    "stability": "Stability",
    "perplexity": "Perplexity",
}
TOOL_NAME_CUTOFF = 0.85
_LONG_WORD = re.compile(r"\b[a-zA-Z]{7,}\b")  # the tools' names misspelt are this long
# Words that open a follow-up which needs the sentence before it ("And what about the UK?").
_LEANS_BACK = re.compile(
    r"^\W*(and|but|so|or|what about|how about|then|also|why|is that|does that|is it|however|nevertheless"
    r"|even so|in that case|if so)\b"
    # ... and in Chinese, Japanese and Korean: "また、欧州の例外とはどう違いますか？", "那么在中国呢？"
    r"|^\W*(また|そして|それでは|では|那么|那麼|另外|还有|還有|而且|此外|그리고|또한|그럼|그러면)",
    re.I,
)
# ... or that points back to something named before it ("If an app uses this pre-trained model, ...")
_POINTS_BACK = re.compile(r"\b(this|these|those|them)\b", re.I)
# ... and, for a question among several, "what if" and "that" or "it" too (see questions_alone)
_REFERS_BACK = re.compile(r"^\W*what if\b|\b(this|that|these|those|them|it)\b", re.I)
MIN_ASK_TOKENS = 12
# A sentence that asks without a question mark ("I'm not sure how Midjourney can ...").
_ASKING = re.compile(
    r"^\W*(who|what|when|where|why|how|which|is|are|can|could|may|does|do|did|should|would|will)\b"
    r"|\b(not sure|wonder|wondering|curious|clarif\w+|want to know|would like to know|need to know|question)\b",
    re.I,
)

# A dispute of the asker's own: they should hear "talk to a lawyer" first.
DISPUTE = re.compile(
    r"\b(sue|suing|sued|threaten\w*|cease[- ]and[- ]desist|c&d|takedown|dmca|strike)\b.{0,40}\b(me|my|mine|us|our)\b"
    r"|\b(should|can|could|shall|do) (i|we) (sue|take (them|him|her|it) to court|file a (lawsuit|claim|complaint)|demand|get paid|join)\b"
    r"|\b(i|we) (got|received|have received|was sent|were sent|am being|are being)\b.{0,30}\b(notice|letter|claim|strike|takedown|sued|threatened)\b"
    r"|\b(they|someone|somebody|a company|he|she)\b.{0,30}\b(threaten\w*|sue|suing|sued|stole|stealing|copied|copying|used)\b.{0,30}\b(me|my|mine|us|our)\b"
    r"|\bjoin (the|this|a|these) (class[- ]action|lawsuits?|suit)\b"
    # "some of my uploaded videos are selected by you to be used", "my art was scraped"
    r"|\b(my|our) (\w+ ){0,2}(videos?|photos?|pictures?|images?|art|artwork|drawings?|content|music|songs?"
    r"|books?|novels?|code|writing|voice)\b (are|is|was|were|have been|has been|got)\b"
    r".{0,40}\b(used|taken|copied|scraped|stolen|selected|downloaded)\b",
    re.I,
)
# ... or a situation of the asker's own: "what should I do?" gets the referral too, but is no
# dispute by itself ("I sometimes just Google an image and use it on my blog ... what should I do?")
_ASKS_ADVICE = re.compile(r"\bwhat (should|do|can) (i|we) do\b", re.I)

# Languages other than English, told apart by common words; with key terms in English, so that
# the English-only local embedding model and the English sources can be searched offline.
_LANGUAGE_WORDS: dict[str, frozenset[str]] = {
    "de": frozenset(
        "und der die das ist nicht ich ein eine mit für auf darf kann wenn wie oder sind bei ob wem wer was "
        "welche gehören gehört man dürfen muss bilder werke warum hat haben wird werden dass den dem des im "
        "auch noch nur mein meine wir sie über gegen zu".split()
    ),
    "fr": frozenset(
        "le la les est une des pour que qui pas dans sur peut avec mon mes je ce une est-ce vos votre nos "
        "notre sont être comment aux du puis-je pourquoi quoi quel quelle ou ils elles nous vous fait".split()
    ),
    "es": frozenset(
        "el la los las es una para que por con del puedo mis como pero sobre qué cómo si quién dueño "
        "imágenes hechas existe alguna alguno hay mi su sus tengo puede pueden debo está están esto este esta "
        "se al cuando dónde porqué también sin entre hasta desde cuál entonces contra".split()
    ),
    "it": frozenset(
        "il lo gli è una per che con del della posso come sono non anche mio chi immagini devo perché cosa "
        "questo questa degli delle nel nella si ci mia suo sua possibile".split()
    ),
    "pt": frozenset(
        "o os as é uma para que com do da posso como não são meu minha quem imagens está você isso ou só "
        "sobre dos das nos nas pelo pela ao já também muito tem pode podem seus suas nunca este esse essa "
        "se no na em a".split()
    ),
    "nl": frozenset("de het een is niet ik voor met op mag kan van zijn wat hoe wie afbeeldingen".split()),
}
# Letters only one language of these uses, each worth a common word: "¿" for Spanish.
_LANGUAGE_LETTERS: dict[str, re.Pattern[str]] = {
    "es": re.compile(r"[¿¡ñ]"),
    "pt": re.compile(r"[ãõ]"),
    "de": re.compile(r"[ßäöü]"),
    "fr": re.compile(r"[œêîôûëïÿ]"),
    "it": re.compile(r"[ìò]"),
}
_ENGLISH_WORDS = frozenset(
    "the is are and or of to in for with can i my it this that what how does do if be on not".split()
)
_CJK_LANG = (
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
)
_LATIN_WORD = re.compile(r"[a-zA-ZÀ-ÿœ']+")


# Model names the local embedding model does not tie to their maker: "can I use GPT-4 output to
# train my own model?" is 0.53 from the OpenAI article's own question "Can I use ChatGPT output to
# train my own AI model?" (0.90 with "ChatGPT"), and its words matched the GEMA ruling on GPT-4.
# The maker's name goes into the retrieval query.
_MAKERS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\bgpt[- ]?\d[\w.]*|\bdall[- ]?e\b|\bsora\b", re.I), "OpenAI ChatGPT"),
]


def makers(text: str) -> list[str]:
    """The makers of the models a question names, where it does not name them itself."""
    lowered = text.lower()
    found = [maker for pattern, maker in _MAKERS if pattern.search(text)]
    return [m for m in dict.fromkeys(found) if m.split()[0].lower() not in lowered]


@dataclass(frozen=True)
class Ask:
    """A question read for what it asks."""

    text: str  # the whole question, whitespace collapsed (what the user sees echoed)
    ask: str  # the sentences that carry the ask, cleaned (what retrieval looks for)
    # the whole question with the subject's words spelt right, in English (what the scope checks
    # read): "midnourney" is Midjourney, so the question brings AI in
    spelt: str
    language: str = "en"  # "en", or the code of another language told apart
    personal: bool = False  # a dispute or situation of the asker's own
    dispute: bool = False  # a dispute of the asker's own (see DISPUTE)
    english_terms: list[str] = field(default_factory=list)  # key terms of another language in English
    makers: list[str] = field(default_factory=list)  # of the models the ask names ("GPT-4": OpenAI)

    @property
    def query(self) -> str:
        """The retrieval query: the ask, plus English key terms for a question in another language
        and the makers of the models it names."""
        extra = [*self.english_terms, *self.makers]
        if not extra:
            return self.ask
        return f"{self.ask} {' '.join(extra)}"


def spelt_right(text: str) -> str:
    """English text with the subject's words and the tools' names as people misspell them put
    right ("copywrite", "commerical", "midnourney")."""
    for wrong, right in _MISSPELT:
        text = wrong.sub(right, text)
    return _LONG_WORD.sub(_tool_name, text)


def _tool_name(match: re.Match[str]) -> str:
    word = match.group(0)
    lowered = word.lower()
    if lowered in _TOOL_NAMES or lowered.rstrip("s") in _TOOL_NAMES:  # "copilots" is no misspelling
        return word
    # a misspelling keeps the name's first letters and about its length ("ability" is no Stability)
    like = [n for n in _TOOL_NAMES if n[:2] == lowered[:2] and abs(len(n) - len(lowered)) <= 1]
    close = difflib.get_close_matches(lowered, like, n=1, cutoff=TOOL_NAME_CUTOFF)
    return _TOOL_NAMES[close[0]] if close else word


def untagged(text: str) -> str:
    """The text without a forum's tag before its title ("[PubQ] ...")."""
    return _TAG.sub("", text)


def read(question: str) -> Ask:
    """The question with its ask found (see the module's docstring)."""
    text = " ".join(question.split())
    lines = [line for line in question.splitlines() if line.strip()]
    unquoted = [line for line in lines if not line.lstrip().startswith(">")]
    body = "\n".join(unquoted or [line.lstrip(" >") for line in lines])
    body = _LINK.sub(r"\1", body)
    body = _URL.sub(" ", body)
    body = _MENTION.sub(" ", body)
    body = untagged(body)
    body = " ".join(body.split())
    body = _GREETING_CLAUSE.sub("", body, count=1)
    parts = []
    for sentence in sentences(body):
        part = _PREFIX.sub("", sentence.text, count=1)
        if _PLEASANTRY.match(part) and len(tokens(part)) <= 6:
            continue
        if len(part.split()) <= 2 and part.endswith(("!", ",")):
            continue  # "Cosmo!", "Hey folks,"
        if part:
            parts.append(part)
    ask = _ask_of(parts) or body or text
    quoted = [line.lstrip(" >") for line in lines if line.lstrip().startswith(">")]
    if quoted and unquoted and len(tokens(ask)) < MIN_ASK_TOKENS // 2:
        ask = " ".join(
            " ".join([*quoted, ask]).split()
        )  # "> meaningful human authorship / How is this defined?"
    language = language_of(text)
    if language == "en":
        ask = spelt_right(ask)
    english = english_terms(text) if language != "en" else []
    dispute = bool(DISPUTE.search(text))
    return Ask(
        text=text,
        ask=ask,
        spelt=spelt_right(text) if language == "en" else text,
        language=language,
        personal=dispute or bool(_ASKS_ADVICE.search(text)),
        dispute=dispute,
        english_terms=english,
        makers=makers(ask),
    )


def questions_alone(text: str) -> list[str]:
    """The questions of a text that asks several, each that stands on its own: not one that leans
    on another ("Or is it CC0?", "What if I edit it?", "Can I do that with speech?"), which on its
    own would find articles on its other words. None when the text asks one question."""
    questions = [s.text for s in sentences(text) if _QUESTION_END.search(s.text)]
    if len(questions) < 2:
        return []
    return [q for q in questions if not (_LEANS_BACK.match(q) or _REFERS_BACK.search(q))]


def _ask_of(parts: list[str]) -> str:
    """The last question sentence, with the sentences before it that it leans on."""
    if not parts:
        return ""
    asks = [i for i, p in enumerate(parts) if _QUESTION_END.search(p)]
    asks = asks or [i for i, p in enumerate(parts) if _ASKING.search(p)]
    last = asks[-1] if asks else len(parts) - 1
    start = last
    while start > 0 and last - start < 2:
        chosen = parts[start : last + 1]
        if (
            len(tokens(" ".join(chosen))) >= MIN_ASK_TOKENS
            and not _LEANS_BACK.match(chosen[0])
            and not _POINTS_BACK.search(chosen[0])
        ):
            break
        start -= 1
    end = last + 1
    # "Is this a win for Anthropic, right? They paid for pirating ebooks and ...": a short question
    # whose subject is told after it takes the sentences that follow.
    while end < len(parts) and end - last <= 2 and len(tokens(" ".join(parts[start:end]))) < MIN_ASK_TOKENS:
        end += 1
    return " ".join(parts[start:end])


def language_of(text: str) -> str:
    """ "en", "zh", "ja", "ko", "de", "fr", "es", "it", "pt" or "nl": a guess from the script and
    from common words; English when unsure."""
    for code, script in _CJK_LANG:
        if len(script.findall(text)) >= 2:
            return code
    words = [w.lower() for w in _LATIN_WORD.findall(text)]
    if len(words) < 3:
        return "en"
    english = sum(w in _ENGLISH_WORDS for w in words)
    best, count = "en", english
    for code, vocabulary in _LANGUAGE_WORDS.items():
        letters = _LANGUAGE_LETTERS.get(code)
        found = sum(w in vocabulary for w in words) + (1 if letters and letters.search(text) else 0)
        if found > count:
            best, count = code, found
    return best if count >= 2 else "en"


def english_terms(text: str) -> list[str]:
    """English for the key terms of a question in another language (from a small glossary)."""
    lowered = text.lower()
    found: list[str] = []
    # Longest first, each match blanked out: "derechos de imagen" is likeness, not "rights" and "image".
    for term in sorted(GLOSSARY, key=len, reverse=True):
        if term.isascii() or term.startswith("d'"):
            # a long word with an ending: "generiert" in "generierte", "protegido" in "protegidos";
            # after an elided article too: "intelligenza" in "un'intelligenza"
            ending = r"\w{0,3}" if len(term) >= 6 and " " not in term else ""
            pattern = re.compile(rf"(?<!\w){re.escape(term)}{ending}(?!\w)")
        else:
            pattern = re.compile(re.escape(term))
        if pattern.search(lowered):
            found.append(GLOSSARY[term])
            lowered = pattern.sub(" ", lowered)
    return list(dict.fromkeys(found))
