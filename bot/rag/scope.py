"""Is a question for us? Requests to refuse, and questions outside AI, copyright and tech law."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.core.text import STOPWORDS, tokens

REFUSALS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(
            r"\b(invent|make up|made[- ]up|fabricate|fake|hallucinate|create)\b.{0,40}\b(citation|cite|case|source|reference|quote|precedent|ruling)s?\b",
            re.I | re.S,
        ),
        "I only cite sources that really exist in my knowledge base, so I can't invent a citation or a case.",
    ),
    (
        # Aimed at the bot ("ignore your rules", "disregard the above"), not at the law
        # ("can AI companies bypass copyright rules?", "can a court override the rules?").
        re.compile(
            r"\b(ignore|disregard|forget|override|bypass)\b.{0,40}\b(instructions?|guidelines|programming|(system|initial|original|previous|prior|above|earlier|your)\s+prompts?)\b"
            r"|\b(ignore|disregard|forget|override|bypass)\b.{0,20}\b(your|the above|all (the )?(previous|prior|above|earlier))\s+(\w+\s+)?(rules?|polic(y|ies)|restrictions|constraints|filters?|limits|safeguards)\b"
            r"|\b(ignore|disregard|forget)\s+(all\s+|everything\s+|anything\s+)?(of\s+)?(the\s+|that\s+|what\s+(was|is|I)\s+\w+\s+)?(above|before|previous(ly)?|prior|earlier)\b",
            re.I | re.S,
        ),
        "I can't set my instructions aside. Ask me about AI and copyright law and I'll answer from my sources.",
    ),
    (
        re.compile(
            r"\b(system|hidden|initial|your)\s+(prompt|instructions)\b|\bprompt\s+injection\b|\bjailbreak\b|\bdeveloper mode\b|(?-i:\bDAN\b)",
            re.I,
        ),
        "I don't share or change how I'm configured. Ask me about AI and copyright law instead.",
    ),
    (
        re.compile(
            # "Content Credentials" is the C2PA provenance label, not a secret
            r"\b(api[ _-]?key|openai[ _-]?key|discord[ _-]?token|bot token|access token|secret key|password"
            r"|(?<!content )credentials|\.env\b|environment variables?)\b",
            re.I,
        ),
        "I never share keys, tokens or other secrets.",
    ),
    (
        re.compile(
            # "act as my lawyer", not "does the AI Act require a lawyer"; "promise me I'll win",
            # not "does Adobe's indemnity guarantee the images are safe".
            r"\b(pretend|act\s+(as|like)|roleplay|role-play|you\s+are|you're)\b.{0,25}\b(my|a|an)\s+(lawyer|attorney|solicitor|barrister|counsel)\b"
            r"|\bbe\s+my\s+(lawyer|attorney|solicitor|barrister|counsel)\b"
            r"|(\b(promise|guarantee|assure)\s+(me|us)\b|^\W*(please\s+)?(promise|guarantee)\b|\b(you|u)\s+(promise|guarantee|assure)\b).{0,30}\b(win|won't lose|will not lose|case|outcome|safe)\b",
            re.I | re.S,
        ),
        "I'm not a lawyer and can't promise any outcome. I can explain what my sources say, with citations; for your own case, ask a qualified lawyer.",
    ),
    (
        re.compile(
            r"\b(ping|mention|tag|notify|alert)\s+(@?everyone|@?here|all (the )?(users|members|people)|(the\s+)?(whole|entire|full)\s+(server|channel|guild))\b",
            re.I,
        ),
        "I don't ping people. Ask me about AI and copyright law instead.",
    ),
    (
        re.compile(
            r"\b(repeat|say|write|type|post)\s+(after me|this|the following|exactly|verbatim|these words)\b",
            re.I,
        ),
        "I don't repeat text on request. Ask me about AI and copyright law and I'll answer from my sources.",
    ),
    (
        re.compile(r"忽略.{0,10}(指令|指示|提示)|系统提示|(编造|捏造).{0,10}(引用|案例|判例)"),
        "我不能这样做。请问我关于人工智能与版权法的问题，我会注明出处。",
    ),
]

# Words that put a question on our subject even when retrieval is weak.
TOPIC_WORDS = frozenset(
    """copyright copyrights copyrighted copyrightable copyrightability author authors authorship
    ai a.i artificial intelligence generative genai gen-ai llm llms chatgpt gpt openai anthropic claude
    midjourney stable diffusion dall-e dalle sora suno udio gemini copilot meta llama stability
    train training trained dataset datasets scrape scraping scraped tdm mining model models
    infringe infringes infringed infringement infringing fair use dealing license licence licensing
    licensed royalties royalty patent patents trademark trademarks ip intellectual property
    deepfake deepfakes replica replicas voice clone likeness publicity label labelling labeling
    watermark watermarks watermarking metadata disclosure court ruling judgment judgement lawsuit sue
    sued suing lawsuit lawsuits case law laws legal illegal legally statute act regulation directive
    registration register registered protect protected protection own ownership owns public domain
    work works artwork art image images picture pictures song songs music lyrics book books novel
    output outputs prompt prompts generated generate generator""".split()
) | frozenset(["版权", "著作权", "人工智能", "著作権", "저작권", "인공지능", "生成"])


# Words (and ways of asking) of law: rights, rules, disputes and permission. A question in English
# with words of our subject but none of these ("What GPU do I need to run Stable Diffusion
# locally?", "Which AI image generator makes the best anime art?") asks about the technology, not
# the law. Kept broad: "can someone just yoink it", "is it ok to", "who gets", "does it matter if I
# edit it a lot" ask about law too.
LAW_WORDS = re.compile(
    r"\b(copyright\w*|legal\w*|illegal\w*|law|laws|lawful\w*|unlawful\w*|lawyers?|attorneys?|allow\w*"
    r"|permit\w*|permission\w*|licen[cs]\w*|own|owns|owned|owner\w*|rights?|sue|sued|suing|lawsuits?"
    r"|litigat\w*|courts?|judges?|judg\w*ments?|rul(e|es|ed|ing|ings)|infring\w*|protect\w*|commerc\w*|reproduc\w*"
    r"|sell\w*|sold|monetis\w*|monetiz\w*|fair use|fair dealing|terms|tos|eula|polic(y|ies)|consent|regist\w*"
    r"|patent\w*|trademark\w*|authors?|authorship|ban|bans|banned|banning|suspend\w*|regulat\w*|acts?"
    r"|bills?|statutes?|directives?|treat(y|ies)|articles? \d+|sections? \d+|gdpr|ccpa|privacy|personal data"
    r"|data protection|liab\w*|compensat\w*|royalt\w*|damages|opt[- ]?(out|in)|robots\.txt|scrap\w*"
    r"|settle\w*|appeal\w*|case|cases|plaintiffs?|defendants?|claims?|piracy|pirat\w*|stolen|steal\w*|theft"
    r"|plagiar\w*|credit\w*|attribut\w*|disclos\w*|label\w*|watermark\w*|deepfakes?|likeness|publicity"
    r"|v\.?|vs\.?|versus|won|win|lose|lost|verdict|precedents?|public domain|cc0|cc-by|creative commons|gpl"
    r"|agpl|mit|apache|open[- ]source|pay|paid|fined?|fines|penalt\w*|obey\w*|legit|ip|intellectual property"
    r"|dmca|takedowns?|violat\w*|deriv\w*|transformative|original\w*|creativ\w*|exceptions?|tdm"
    r"|text and data mining|train\w* (on|with)|training data|trained on|deals?|contracts?|agreements?|ok|okay"
    r"|safe|trouble|risk\w*|can (i|we|you|someone|anyone|they) (use|sell|post|publish|share|take|copy|claim|keep)"
    r"|who (owns|gets)|mine|theirs|yoink\w*|take my|use my|using my|copy my|human|edit\w*|modif\w*"
    r"|matters?|counts?|problem\w*|fine|must|required|duty|mark\w*|tell (anyone|people|them|my)"
    r"|grab\w*|come after|go after)\b",
    re.I,
)


# Asking which tool to pick ("how do you know which one is the right one to realize your artistic
# vision?", "Which generator is best for anime?") is about the technology, whatever else it says,
# unless it names the law itself ("which generator is safest to use commercially?").
_CHOOSING = re.compile(
    r"\bwhich (one|\w+)\b[^?.]{0,60}?\b(best|better|right one|right (tool|platform|model|app|service) for"
    r"|should (i|we) (use|pick|choose|go with))\b|\brecommend(ed|ation|ations)?\b",
    re.I,
)
_NAMES_LAW = re.compile(
    r"\b(copyright\w*|legal\w*|illegal\w*|laws?|lawful\w*|licen[cs]\w*|own|owns|owned|owner\w*|infring\w*"
    r"|sue|sued|suing|lawsuits?|rights|permission\w*|allowed|commerc\w*|sell\w*|protect\w*|regist\w*"
    r"|fair use|terms|polic(y|ies)|courts?|safe\w*)\b",
    re.I,
)


def asks_to_choose(question: str) -> bool:
    """Whether the question asks which tool to pick, without a word of the law (see _CHOOSING)."""
    return bool(_CHOOSING.search(question)) and not _NAMES_LAW.search(question)


def asks_about_law(question: str) -> bool:
    """Whether the question uses a word of law (see LAW_WORDS)."""
    return bool(LAW_WORDS.search(question))


# How a case came out: with a party the sources name, a question on our subject.
OUTCOME_WORDS = re.compile(
    r"\b(win|wins|won|winning|lose|loses|lost|losing|appeal\w*|settle\w*|verdict|trial|overturn\w*|beat)\b",
    re.I,
)


# Subjects next to ours that the sources do not cover: the bot says so rather than quoting
# copyright passages that share a few words ("AI as an inventor" is patent law).
UNCOVERED: list[tuple[re.Pattern[str], re.Pattern[str], str]] = [
    (
        re.compile(
            r"\b(inventors?|inventions?|inventorship|patentab\w*|patent(ed|ing)?\s+(an?|the|my|it|this|that|law|"
            r"laws|office|system|protection|application|claims?))\b",
            re.I,
        ),
        re.compile(r"\bcopyright|\blicen[cs]", re.I),
        "My sources cover copyright and the rules around it for AI, not patent law, so I can't answer "
        "questions about patents or AI inventors.",
    ),
    (  # "Can I trademark my logo generated by AI?": registering a trade mark is not copyright
        re.compile(
            r"\btrade ?mark(ed|ing)?\s+(my|our|a|an|the|it|this|that|his|her|their)\b"
            r"|\bregist\w*\s+([\w'-]+\s+){0,5}?(as\s+)?(an?\s+)?trade ?marks?\b",
            re.I,
        ),
        re.compile(r"\bcopyright|\binfring", re.I),
        "My sources cover copyright and AI, not registering trade marks: whether an AI-made logo or "
        "name can be registered as a trade mark is for your country's trade mark office or a "
        "lawyer. I can answer whether the logo itself is protected by copyright.",
    ),
    (  # "Is it legal to use ChatGPT at work?": the employer's policy and contract decide
        re.compile(
            r"\bat (my |our |your )?(work|workplace|job|office)\b|\bmy (employer|boss|manager)\b", re.I
        ),
        re.compile(
            r"\bcopyright|\bown(s|ed|er|ership)?\b|\blicen[cs]|\binfring|\btrain|\bauthor|\bcommercial|\bsell"
            r"|\bclaim|\brights?\b|\bfor hire\b",
            re.I,
        ),
        "My sources cover copyright and AI, not workplace rules: whether you may use an AI tool at "
        "work is decided by your employer's policy and your contract, so ask your employer or a "
        "lawyer. I can answer who owns what the tool makes, or whether it may infringe.",
    ),
    (  # "Can we sue OpenAI for defamation?": what a chatbot says about a person is not copyright
        re.compile(r"\b(defam\w*|libel\w*|slander\w*)", re.I),
        re.compile(r"\bcopyright|\binfring", re.I),
        "My sources cover copyright and AI, not defamation: whether something an AI said about a "
        "person is libel or slander is decided by defamation law where it was published, so ask a "
        "lawyer there. I can answer who owns what an AI makes, or whether it may infringe.",
    ),
    (  # "Does Discord require a privacy policy for bots?": platform and privacy rules, not copyright
        re.compile(r"\bprivacy polic(y|ies)\b", re.I),
        re.compile(r"\bcopyright|\binfring|\btrain", re.I),
        "My sources cover copyright and AI, not the privacy policy an app or bot must publish: that "
        "is set by privacy law where your users are and by the platform's developer terms, so check "
        "those or ask a lawyer.",
    ),
    (  # "Is it plagiarism to use AI for my essay?": the school's rules decide, not copyright law
        re.compile(
            r"\b(plagiar\w*|cheat\w*|academic (integrity|misconduct|dishonesty))\b"
            r".{0,80}?\b(essays?|homework|assignments?|coursework|thesis|dissertation|schools?"
            r"|universit(y|ies)|college|class|teachers?|professors?|exams?)\b"
            r"|\b(essays?|homework|assignments?|coursework|thesis|dissertation)\b.{0,80}?\bplagiar\w*",
            re.I | re.S,
        ),
        re.compile(r"\bcopyright|\binfring|\blicen[cs]|\bown(s|ed|er|ership)?\b|\bauthor", re.I),
        "My sources cover copyright law, not plagiarism or academic rules: whether you may use AI "
        "for schoolwork, and how to credit it, is set by your school, course or publisher, so check "
        "its policy or ask your teacher. I can answer whether AI output is protected by copyright "
        "or may infringe someone else's.",
    ),
    (  # "What is this module's policy on code written by GitHub Copilot?": asked of a project
        re.compile(
            r"\b(this|your|the|our)\s+(project|repo|repository|module|library|package|codebase|community"
            r"|server|subreddit|forum|site)(['’]s)?\s+(policy|policies|stance|position|rules?|guidelines)\b"
            r"|\b(policy|policies|stance|position|rules?|guidelines)\s+(of|for|in)\s+(this|your|the|our)\s+"
            r"(project|repo|repository|module|library|package|codebase|community|server|subreddit|forum|site)\b"
            # "Do we need/want a policy on using large language models to help write papers?"
            r"|\b(do|should|shall|must)\s+(we|i|our\s+\w+)\s+(\w+/)?(need|want|have|adopt|write|set|make)"
            r"\s+(an?\s+)?(\w+\s+)?(policy|policies|rules|guidelines)\b",
            re.I,
        ),
        re.compile(r"\bcopyright|\binfring|\blicen[cs]|\blegal|\blaw\b|\bact\b|\bregulation", re.I),
        "My sources cover the law on AI and copyright, not a project's own rules: whether a project "
        "or community accepts AI-written contributions, and how they must be credited, is for its "
        "maintainers or moderators to say, so ask them. I can answer whether AI-written code or art "
        "is protected by copyright, or may infringe someone else's.",
    ),
]


# "What is the licence here?", "Can the dataset be used commercially?": the terms of a model,
# dataset or repository the question does not name. Licences differ from one to the next, so
# the sources (which speak of named ones) cannot say; quoting another's licence would mislead.
_UNNAMED_THING = re.compile(
    r"\blicen[cs]e\s+here\b|\bthe\s+(commercial\s+)?licen[cs]ing\b"
    r"|\b((this|that|your|our)\s+(\w+\s+)?(model|models|software|app|tool)"
    r"|(this|that|the|your|our)\s+(repo|repository|dataset|data\s?set|weights|checkpoints?|project|library|codebase)"
    # "can we use the generated images commercially?", asked under a model's page
    r"|the\s+(generated|created|produced)\s+(images?|pictures?|outputs?|content|videos?|music|audio|songs?|code|text)"
    r"|the\s+models?(?!\s+(of|that|which|who)\b))\b",
    re.I,
)
_TERMS_ASK = re.compile(
    r"\b(licen[cs](e|es|ed|ing)|commercial(ly)?|commersial|proprietary|terms of (use|service))\b", re.I
)
# ... unless the question says which licence it means
_LICENCE_NAMED = re.compile(
    r"\b(MIT|Apache|A?GPL|LGPL|BSD|CC[- ]?BY|CC0|Creative Commons|Open ?RAIL|non[- ]?commercial)", re.I
)
# ... unless it asks whether what was made is protected at all, which the law answers, not a
# licence ("all the code in this repo is machine-generated: won't it have to be public domain?")
_ASKS_PROTECTION = re.compile(
    r"\bpublic domain\b|\bcopyrightab\w*|\bprotected by copyright\b|\bauthorship\b", re.I
)
_PRODUCT_WORDS = frozenset(
    """chatgpt gpt openai anthropic claude midjourney stable diffusion dall-e dalle sora suno udio
    gemini copilot meta llama stability firefly adobe flux mistral""".split()
)
# "Code is under Apache-2, the dataset under a research-only licence: which license are the
# pre-trained weights under?": the licences named are of the other parts, the weights are unnamed
_WHICH_LICENCE = re.compile(
    r"\b(which|what)\s+licen[cs]e\w*\s+(is|are|does|do|applies|apply|covers?)\b[^?.]{0,40}?"
    r"\b(weights|models?|checkpoints?|datasets?|outputs?)\b",
    re.I,
)
_LICENCE_WHOLE = re.compile(_LICENCE_NAMED.pattern + r"[\w.-]*", re.I)  # "CC-BY-NC", "Apache-2.0"
_ASKS_LAW_ITSELF = re.compile(r"\bcopyright|\blaws?\b|\bpublic domain\b", re.I)
UNNAMED_TEXT = (
    "Your question doesn't say which model, dataset or repository it is about, and licences differ "
    "from one to the next, so I can't answer it from my sources. Ask again with its name, for "
    'example: "Can I use Llama 3 commercially?"'
)


def names_something(question: str) -> bool:
    """Whether the question names a product, a company or a licence: a known product word, or a
    capitalised word other than the first of a sentence ("I" aside)."""
    if _LICENCE_NAMED.search(question) or any(t in _PRODUCT_WORDS for t in tokens(question)):
        return True
    for sentence in re.split(r"(?<=[.!?？])\s+", question):
        words = re.findall(r"[A-Za-z][\w'-]*", sentence)
        if any(w[0].isupper() and w != "I" and not w.startswith("I'") for w in words[1:]):
            return True
    return False


def asks_about_terms(question: str) -> bool:
    """Whether the question asks about a licence, commercial use or terms of use."""
    return bool(_TERMS_ASK.search(question))


def uncovered(question: str) -> str | None:
    """The message for a question about a neighbouring subject the sources do not cover, or
    about the licence of something it does not name."""
    for about, unless, message in UNCOVERED:
        if about.search(question) and not unless.search(question):
            return message
    if (
        _UNNAMED_THING.search(question)
        and _TERMS_ASK.search(question)
        and not _ASKS_PROTECTION.search(question)
        and not names_something(question)
    ):
        return UNNAMED_TEXT
    if (
        _WHICH_LICENCE.search(question)
        and not _ASKS_LAW_ITSELF.search(question)
        and not names_something(_LICENCE_WHOLE.sub(" ", question))
    ):
        return UNNAMED_TEXT
    return None


# A question about what AI tools do ("Why does ChatGPT generate fake references?") is not a
# request to the bot to invent one.
_ABOUT_TOOLS = re.compile(
    r"^\W*(why|how come|how|does|do|did|is|are|can|could|will|would)(\s+(does|do|did|is|are|can|could|will|would))?"
    r"\s+(chatgpt|gpt\S*|claude|gemini|copilot"
    r"|llms?|(the |an? |these |some )?(ai|llm|chatbot|model|tool)s?)\b",
    re.I,
)


def refusal(question: str) -> str | None:
    """The refusal message when the question asks for something we will not do, else None."""
    for n, (pattern, message) in enumerate(REFUSALS):
        if n == 0 and _ABOUT_TOOLS.search(question):  # the first: inventing a citation
            continue
        if pattern.search(question):
            return message
    return None


def mentions_topic(question: str, besides: frozenset[str] = frozenset()) -> bool:
    """Whether the question uses a word of our subject (other than those `besides`)."""
    lowered = question.lower()
    if any(word in lowered for word in TOPIC_WORDS if not word.isascii()):
        return True
    words = TOPIC_WORDS - besides
    return any(t in words for t in tokens(question)) or bool(re.search(r"\bAI\b|\bA\.I\.", question))


# The words of a dispute itself: a question with only these is about the asker's case, not a rule.
DISPUTE_WORDS = frozenset(
    """sue sued suing lawsuit lawsuits case court legal legally illegal law laws judgment judgement
    ruling own""".split()
)


# AI in some form: a model, its training or its output, a tool, a cloned voice or likeness, crawling
# or a provenance label. A question in English with none of these ("Is it okay to publish
# fanfiction for free?", "can I use 10 seconds of a popular song in my video?") asks about
# copyright in general, which the sources (on AI and copyright) do not cover.
_AI_ELEMENT = re.compile(
    r"\b(ai|a\.i|artificial intelligence|machine[- ]learning|ml|generative|gen-?ai|llms?|language models?"
    r"|chat-?bots?|bots?|models?|weights|checkpoints?|datasets?|data sets?|training|trained|train|prompt\w*"
    r"|generat\w*|outputs?|outputted|deep-?fakes?|clon\w*|synthetic|replicas?|scrap\w*|crawl\w*|robots\.txt"
    r"|tdm|text and data mining|data mining|opt[- ]?(out|in)s?|c2pa|content credentials|provenance"
    r"|voices?|likeness|personality rights|publicity|algorithm\w*|neural|diffusion|machine[- ]generated"
    r"|automated|autonomous|robots?|computers?[- ]generated|machines?|non-?human|human (authors?|authorship|creators?)"
    # the image generators' own words: "selects elements using img2img", "a LoRA of an artist"
    r"|img2img|txt2img|text-to-(image|video|speech)|image-to-(image|video)|in-?paint\w*|out-?paint\w*"
    r"|loras?|controlnet|dreambooth|fine-?tun\w*"
    r"|gpt\S*)\b",  # and the tools we know by name (_PRODUCT_WORDS)
    re.I,
)
# The first words of a forum reply that leans on what came before ("So where are the winning
# lawsuits then?", "But it means the appellate decision will retain precedence, no?"): the
# subject is in the message it answers, which the bot does not see. Narrower than the follow-up
# words of asking._LEANS_BACK: "Is it okay to publish fanfiction?" asks a question of its own.
_LEANS_BACK = re.compile(
    r"^\W*(why|so|but|and|then|also|that|this|(does|doesn't|did|would|wouldn't|is|isn't|was|wasn't)"
    r"\s+(that|this))\b",
    re.I,
)


# ... and the words for AI in the other languages we read, which the glossary does not always
# give one by one ("KI-Bilder", "einer Künstlichen Intelligenz")
_AI_WORDS_ABROAD = re.compile(
    r"人工智能|人工知能|인공지능|生成|ＡＩ|(?<![a-z])(?-i:AI|KI|IA)(?![a-z])|k[üu]nstlich\w* intelligenz"
    r"|intell?ig[eêé]n[cz]\w* artifici\w*|artifici\w* intell?ig\w*|kunstmatige intelligentie",
    re.I,
)


def about_ai(question: str) -> bool:
    """Whether the question brings AI in, in some form (see _AI_ELEMENT)."""
    return bool(
        _AI_ELEMENT.search(question)
        or _AI_WORDS_ABROAD.search(question)
        or any(t in _PRODUCT_WORDS for t in tokens(re.sub(r"['’]s\b", "", question)))  # "Midjourney's"
    )


def leans_back(question: str) -> bool:
    """Whether the question opens by leaning on a message before it (see _LEANS_BACK)."""
    return bool(_LEANS_BACK.search(question))


def names_subject(question: str) -> bool:
    """Whether the question names something of our subject besides a dispute ("sue me over my AI
    image" does; "they threatened to sue me, what do I do" does not)."""
    return mentions_topic(question, besides=DISPUTE_WORDS)


_NAMED_LAW = re.compile(r"\b((?:[A-Z][\w'-]*\s+){1,8}(?:Act|Bill|Law|Regulation|Directive))\b")
_NAME = r"([A-Z][\w'-]+(?:\s+(?:[A-Z][\w'-]+|of|de|von))*)"
# Where a capitalised word stands as a party, court, case or country of a rule, or as a platform
# with rules of its own: "Zorblatt v. Quenmore", "the PixelDream lawsuit", "Mexico's rules", "sued
# by Zorblatt", "Does Etsy allow AI art?". A capitalised word
# elsewhere is a person addressed, an emphasis ("did they WIN?") or an ordinary noun.
_NAMED = [
    re.compile(
        _NAME + r"(?:'s|’s)?\s+(?:v\.?|vs\.?|versus|case|cases|lawsuit|lawsuits|suit|ruling|rulings|decision|"
        r"judgment|judgement|court|courts|tribunal|rules?|law|laws|statute|regulations?|verdict|settlement|"
        r"copyright law|copyright office)\b"
    ),
    re.compile(r"\b(?:v\.?|vs\.?|versus|sued|suing|sue|against)\s+" + _NAME),
    # a platform's own rules: "Does Etsy allow AI-generated art?", "Etsy's policy on AI art"
    re.compile(
        r"\b(?:[Dd]oes|[Dd]o|[Ww]ill|[Ww]ould|[Cc]an)\s+"
        + _NAME
        + r"\s+(?:allow|permit|ban|accept|prohibit|forbid)\b"
    ),
    re.compile(_NAME + r"(?:'s|’s)\s+(?:polic(?:y|ies)|terms|guidelines)\b"),
]
_LEGAL_ABBREVIATIONS = frozenset(
    "cir app supp dist ct cal del colo ewhc uksc cjeu bgh lg olg fed reg usc".split()
)


# Names of products, models, files and repositories: "PixArt", "Lora_Trainer.ipynb",
# "moshi/personaplex". A model or tool the sources never mention is one they cannot speak for.
_PRODUCT = re.compile(
    r"\b(?!Mc[A-Z]|Mac[A-Z])[A-Za-z]*[a-z][A-Z]\w*"
    r"|\b\w+_\w+(?:\.\w+)?"
    r"|\b[a-z][\w-]{2,40}/[a-z][\w-]{2,40}\b"
    r"|\b\w+\.(?:ipynb|py|js|safetensors|ckpt|gguf)\b"
    # a name in capitals or capitalised before "model" ("NLLB model output", "the Hunyuan models"):
    # capitals alone are passed over
    r"|(?<![\w.-])[A-Z][A-Za-z0-9]{2,20}[\w.-]{0,30}(?=\s+(?:models?|weights|checkpoints?|datasets?)\b)"
)


# Sites and tools named as hyphenated proper names: "Z-Library", "Sci-Hub". Only in English (German
# writes its compounds so: "KI-Bilder"), and only when the question names no product the sources
# speak of: "Self-Instruct methods with ChatGPT" asks about ChatGPT's terms.
_HYPHENATED_NAME = re.compile(r"(?<![\w-])[A-Z][a-z]*-[A-Z]\w*")  # not "By-NC" of "CC-By-NC"


# The tool a question about terms of use asks about, named in any case: "is leonardo ai free for
# commercial use", "If I use wizardcoder to generate code ...", "Can I use Canva's AI-generated
# images ...". A tool no source mentions is one whose terms they cannot give; answering with another
# service's terms would mislead.
_USED_TOOL = re.compile(
    r"\buse\s+([\w.-]{3,40})(?:'s|’s)?\s+(?:ai\b|to\s+(?:generate|make|create|produce|write)\b"
    r"|(?:ai-)?generated\b|outputs?\b|models?\b)"
    r"|\bis\s+([\w.-]{3,40})(?:\s+ai)?\s+free\s+(?:for|to)\s+(?:commercial|use|sell)",
    re.I,
)


# Open models whose licence changes from one version to the next: a question about a version the
# sources never mention ("Is it legal for llama2 to fine tune ...") is not answered with another
# version's licence. "llama 3.21b" (Llama 3.2 1B) is no version number of its own. Versions
# asked about together ("llama2/3") are one question about both, answered when one is covered.
_VERSIONED = re.compile(
    r"\b(llama|stable diffusion)[ -]?v?(\d+(?:\.\d+)?)((?:/v?\d+(?:\.\d+)?)*)(?!\w|\.\d)", re.I
)


# A tool we know by name is looked up in the sources' text with punctuation aside only from this
# length: a shorter one is found across their words ("Sora" in "Bhosle's oral").
_SQUASHED_MIN = 5


# The words before a name that make it the subject of a question: "was the ...", "Does ..."
_ASKED_OF = re.compile(r"\b(?:is|are|was|were|does|did|do|can|could|has|have)\s+(?:the\s+)?$", re.I)


def _mentioned(name: str, vocabulary: set[str] | dict[str, float], has_name: Callable[[str], bool]) -> bool:
    """Whether the sources mention a product's name: punctuation aside (see _SQUASHED_MIN), or,
    when it is shorter, as a word ("COCO dataset" is not in "Buccafusco copyrighting")."""
    if len(re.sub(r"[\W_]+", "", name)) >= _SQUASHED_MIN:
        return has_name(name)
    return all(t in vocabulary for t in tokens(name))  # a common word ("how" of "true/how") is no name


def unknown_versions(question: str, has_phrase: Callable[[str], bool]) -> list[str]:
    """Versions of a model family the sources cover ("Llama 3") whose major version they never
    mention ("Llama 2"), as "Llama 2"."""
    out = []
    for match in _VERSIONED.finditer(question):
        family, version = match.group(1), match.group(2)
        versions = [version, *(v.lstrip("vV") for v in match.group(3).split("/") if v)]
        # "Stable Diffusion 1.x" covers 1.5; "Llama 3" covers 3.3
        majors = [v.split(".")[0] for v in versions]
        covered = any(has_phrase(f"{family} {m}") or has_phrase(f"{family}{m}") for m in majors)
        if has_phrase(family) and not covered:
            name = f"{family.title() if family.islower() else family} {version}"
            if name not in out:
                out.append(name)
    return out


def unknown_names(
    question: str,
    vocabulary: set[str] | dict[str, float],
    has_phrase: Callable[[str], bool] = lambda _p: True,
    has_name: Callable[[str], bool] = lambda _n: True,
    english: bool = True,
) -> list[str]:
    """Names of parties, courts, laws or countries that no source mentions (an invented case, a
    statute we do not have, a country we do not cover): the sources cannot cover the question.

    A named law ("... Fairness Act") must appear in the sources as a whole phrase; the words of
    a party or court name are looked up in the vocabulary of the sources. Acronyms and words in
    capitals are passed over (sources often write them out; "WIN" is emphasis), except a name in
    capitals, or capitalised, before "model" ("NLLB model", "the Hunyuan models"). Products, files
    and sites ("PixArt", "moshi/personaplex", "Sci-Hub", and the tools we know by name, such as
    "Sora") must appear in the sources, punctuation aside; hyphenated site names only in a
    question in English (`english`). So must the tool a question about terms of use asks about,
    in any case ("is leonardo ai free for commercial use", "use wizardcoder to generate")."""
    names = [m.group(1) for m in _NAMED_LAW.finditer(question) if not has_phrase(m.group(1))]
    for pattern in _NAMED:
        for match in pattern.finditer(question):
            for word in re.findall(r"[A-Z][\w'-]+", match.group(1)):
                word = re.sub(r"(?:'s|’s)$", "", word)
                token = word.lower()
                if word.isupper() or not tokens(word) or token in TOPIC_WORDS or token in vocabulary:
                    continue
                if token in _LEGAL_ABBREVIATIONS or word in names:
                    continue
                names.append(word)
    # a product the sources cover is what the question asks about ("As a SiteNow webmaster, I would
    # like to block ChatGPT ..."): other names are its setting
    covered = any(t in _PRODUCT_WORDS and t in vocabulary for t in tokens(question))
    for match in _PRODUCT.finditer(question):
        name = match.group(0)
        # ... unless the name is what the question asks about: "was the DeepSeek-Coder-Instruct
        # series fine-tuned on GPT-4 data?"
        if covered and not _ASKED_OF.search(question[: match.start()]):
            continue
        parts = [p for p in re.split(r"[/]", name) if p]
        if all(not _mentioned(p, vocabulary, has_name) for p in parts) and name not in names:
            names.append(name)
    for match in () if covered else _USED_TOOL.finditer(question):
        name = match.group(1) or match.group(2)
        word = name.lower()
        # "use it to generate", "use their AI-generated images", "use generated outputs"
        if word in STOPWORDS or word == "generated" or word in vocabulary or has_name(name):
            continue
        if name not in names:
            names.append(name)
    for word in re.findall(r"[\w-]+", question):  # a product we know of that no source mentions
        if word.lower() not in _PRODUCT_WORDS or word in names or word.lower() in vocabulary:
            continue
        if not _mentioned(word, vocabulary, has_name):  # punctuation aside: "DALLE" is "DALL-E"
            names.append(word)
    if english and not any(t in _PRODUCT_WORDS for t in tokens(question)):
        for match in _HYPHENATED_NAME.finditer(question):
            if not has_name(match.group(0)) and match.group(0) not in names:
                names.append(match.group(0))
    return names + [v for v in unknown_versions(question, has_phrase) if v not in names]
