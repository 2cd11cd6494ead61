"""What a question asks (bot/rag/asking.read): the ask cut from greetings, names, thanks and
quotes; the language it is asked in; whether it is a dispute of the asker's own."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.rag.asking import read

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- the ask, cut from what is around it --------------------------------------------------------


def test_a_greeting_a_name_and_quick_question_are_cut_from_the_ask() -> None:
    asked = read("Happy New Year, Cosmo! Quick question: did the NYT win against OpenAI?")
    assert "NYT" in asked.ask and "OpenAI" in asked.ask
    assert "Cosmo" not in asked.ask and "Happy" not in asked.ask and "Quick" not in asked.ask
    # what the user sees echoed is still the whole question
    assert asked.text == "Happy New Year, Cosmo! Quick question: did the NYT win against OpenAI?"


def test_thanks_and_a_name_before_the_question_are_cut() -> None:
    asked = read("Thanks for the PR Sharon, much appreciated. Do you own the rights to this code?")
    assert asked.ask == "Do you own the rights to this code?"


@pytest.mark.parametrize(
    ("question", "ask"),
    [
        ("Hi Sharon, who owns an AI-generated image in the US?", "who owns an AI-generated image in the US?"),
        ("Hey folks, can I copyright a Midjourney picture? Thanks!", "can I copyright a Midjourney picture?"),
        ("Who owns AI art in the US? Thanks in advance", "Who owns AI art in the US?"),
    ],
)
def test_greetings_and_thanks_around_the_question_are_cut(question: str, ask: str) -> None:
    assert read(question).ask == ask


def test_quoted_lines_are_dropped_when_the_asker_wrote_a_question_of_their_own() -> None:
    own = "If I paint over my Midjourney pictures by hand for weeks, can the result be registered in the US?"
    asked = read(f"> The Office will not register works produced by a machine.\n{own}")
    assert asked.ask == own
    assert "Office" not in asked.ask


def test_a_short_question_that_leans_on_a_quote_keeps_the_quote() -> None:
    """ "> meaningful human authorship / How is this defined?": the subject is in the quote."""
    asked = read("> meaningful human authorship\n\nHow is this defined?")
    assert asked.ask == "meaningful human authorship How is this defined?"


def test_a_question_of_only_quoted_lines_keeps_them() -> None:
    asked = read("> Who owns AI art?\n> Is it protected in the UK?")
    assert "Who owns AI art?" in asked.ask and "Is it protected in the UK?" in asked.ask
    assert ">" not in asked.ask


def test_the_last_question_sentence_carries_the_ask() -> None:
    ask = (
        "Can I legally print and sell AI-generated posters of famous paintings in the EU, "
        "or do I need permission from anyone?"
    )
    asked = read(
        "Is the US rule the same as in China? I run a small print shop and we sell posters online. "
        f"Some customers send designs made with Midjourney. {ask}"
    )
    assert asked.ask == ask


def test_a_short_last_question_keeps_the_sentence_it_needs() -> None:
    asked = read("I made a picture with Midjourney and want to sell it on Etsy. Who owns it?")
    assert asked.ask == "I made a picture with Midjourney and want to sell it on Etsy. Who owns it?"


def test_a_short_question_whose_subject_follows_it_takes_the_sentences_after() -> None:
    asked = read(
        "So this is a straight-up win for Anthropic, right? They pay a penalty for pirating ebooks "
        "and get a ruling that they can train on books. Madness."
    )
    assert "pirating ebooks" in asked.ask and "Madness" not in asked.ask


def test_a_follow_up_that_leans_back_takes_the_sentence_before_it() -> None:
    asked = read("Can AI images be copyrighted in the US? And what about the UK?")
    assert asked.ask == "Can AI images be copyrighted in the US? And what about the UK?"


@pytest.mark.parametrize(
    "question",
    [
        "AI生成的图片在美国受保护吗？那么在中国呢？",  # "... in the US? And then in China?"
        "米国ではフェアユースはAIの学習にどう適用されますか？また、欧州のTDM例外とはどう違いますか？",
        "미국에서 AI 이미지는 보호되나요? 그리고 중국에서는요?",
    ],
)
def test_a_follow_up_in_chinese_japanese_or_korean_takes_the_question_before_it(question: str) -> None:
    asked = read(question)
    assert "美国" in asked.ask or "米国" in asked.ask or "미국" in asked.ask, asked.ask


def test_a_sentence_opening_with_however_keeps_what_it_turns_from() -> None:
    # what "them" stands for is in the sentence before
    asked = read(
        "Our old studio drew the fan characters for our webcomic, and we can no longer reach the artist. "
        "However, now that it is 2025, I think AI models could recreate them for us quite easily. "
        "I'm curious whether that would be a problem."
    )
    assert "fan characters" in asked.ask


def test_a_question_about_this_model_keeps_the_sentence_that_names_it() -> None:
    asked = read(
        "The weights of the Acme image model are licensed for non-commercial use only. "
        "If a mobile app is built on this pre-trained model, can the paying users of that app sell the "
        "generated images commercially worldwide?"
    )
    assert "non-commercial" in asked.ask and "sell the generated images" in asked.ask


def test_a_question_that_names_its_subject_needs_nothing_before_it() -> None:
    question = (
        "Can I sell framed prints of landscape images I generated with Midjourney on a paid plan "
        "at local craft fairs?"
    )
    assert read(f"I have been drawing for years and I love it. {question}").ask == question


def test_links_and_mentions_are_not_part_of_the_ask() -> None:
    asked = read("<@123456789012345678> is [this ruling](https://example.org/x) still good law in China?")
    assert "https://" not in asked.ask and "<@" not in asked.ask
    assert "this ruling" in asked.ask and "China" in asked.ask


# -- language -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "language", "terms"),
    [
        ("Darf ich mit KI erstellte Bilder verkaufen?", "de", {"AI", "images", "sell"}),
        (
            "Kann ein Werk ohne menschlichen Urheber in den USA geschützt werden?",
            "de",
            {"work", "author", "protected"},
        ),
        ("Puis-je vendre des images générées par l'IA ?", "fr", {"sell", "images", "generated"}),
        ("Comment protéger vos œuvres de l’IA ?", "fr", {"AI", "works"}),
        ("¿Puedo vender imágenes generadas por IA para mi tienda?", "es", {"AI", "images"}),
        ("Wem gehören KI-generierte Bilder?", "de", {"AI", "images", "generated", "who owns"}),
        (
            "¿Quién es el dueño de una imagen creada con inteligencia artificial?",
            "es",
            {"owner owns", "AI", "created"},
        ),
        (
            "Le immagini create con l'IA sono protette dal diritto d'autore?",
            "it",
            {"images", "AI", "protected"},
        ),
        ("Mag ik AI-afbeeldingen commercieel gebruiken?", "nl", {"images", "commercial", "use"}),
        ("AI生成的图片有版权吗？", "zh", {"copyright", "image", "generated"}),
        ("AIで生成した画像に著作権はありますか？", "ja", {"copyright", "image", "generated"}),
        ("AI로 생성한 이미지에 저작권이 있나요?", "ko", {"copyright", "image", "generated"}),
        # telling an AI image from a real one is a question of labelling
        ("Wie soll man erkennen, ob ein Bild echt ist?", "de", {"image", "recognise detect labelling"}),
        ("如何识别AI生成的图片？", "zh", {"detect labelling", "image", "generated"}),
        # the computer-generated works rule: "the person making the arrangements is the author"
        ("電腦產生的作品，作出所需安排的人是作者嗎？", "zh", {"computer-generated", "arrangements"}),
    ],
)
def test_questions_in_other_languages_are_recognised_with_english_terms(
    question: str, language: str, terms: set[str]
) -> None:
    asked = read(question)
    assert asked.language == language
    assert terms <= set(asked.english_terms)
    # retrieval searches the English sources with the English terms added
    assert all(term in asked.query for term in terms)


def test_a_foreign_legal_phrase_is_translated_whole_not_word_by_word() -> None:
    asked = read("¿Hasta qué punto tenemos protección de derechos de imagen frente a la IA?")
    assert "likeness personality rights" in asked.english_terms  # image rights: a person's likeness
    assert "image" not in asked.english_terms and "rights copyright" not in asked.english_terms


@pytest.mark.parametrize(
    ("question", "language", "terms"),
    [
        ("Warum hat Italien ChatGPT verboten?", "de", {"ban banned"}),
        ("¿Existe alguna obligación legal de respetar robots.txt?", "es", {"obey comply"}),
        ("Como está a OpenAI se saindo no Tribunal Superior de Délhi contra a ANI?", "pt", {"high court"}),
        ("Devo dichiarare che il mio chatbot è un'intelligenza artificiale?", "it", {"disclose", "AI"}),
        (
            "Comment demander la suppression de mes données auprès d'OpenAI en vertu du RGPD ?",
            "fr",
            {"deletion removal", "GDPR"},
        ),
        ("我能把我的数据从已经训练好的模型中删除吗？", "zh", {"delete remove", "model", "training"}),
        (
            "AIモデルに含まれる個人データは、どのような場合に匿名とみなされますか？",
            "ja",
            {"personal data", "anonymous"},
        ),
        ("제 저작물을 사용한 AI 회사를 고소할 수 있나요?", "ko", {"sue", "company"}),
        ("AI 기본법 때문에 블로그 이미지에 워터마크를 넣어야 하나요?", "ko", {"Basic Act", "watermark"}),
    ],
)
def test_the_subjects_own_words_are_put_into_english(question: str, language: str, terms: set[str]) -> None:
    """Banning, deleting, suing, disclosing, privacy: the words people ask about, beyond owning and
    training; a short question is told apart by its common words and letters ("¿", "ã")."""
    asked = read(question)
    assert asked.language == language
    assert terms <= set(asked.english_terms), asked.english_terms


@pytest.mark.parametrize(
    ("question", "absent"),
    [
        ("AI开发者可以默认用所有内容来训练吗？", "own ownership"),  # 所有: "all" in Chinese
        ("Peut-on accorder un droit d'auteur à une œuvre sans intervention humaine ?", "agreement deal"),
        ("Wie ist die Lage im Vergleich zu den USA?", "settlement"),  # Vergleich: "comparison" too
    ],
)
def test_a_word_with_another_everyday_sense_is_not_translated_as_the_legal_one(
    question: str, absent: str
) -> None:
    assert absent not in read(question).english_terms


@pytest.mark.parametrize(
    "question",
    [
        "Is my AI art protected under the Urheberrecht?",
        "Who owns AI art in the US? Danke",
        "Can I register an AI image in China, merci?",
        "How do I comment on the draft AI Act, and is du Pont a real case?",
    ],
)
def test_an_english_question_with_one_foreign_word_stays_english(question: str) -> None:
    asked = read(question)
    assert asked.language == "en"
    assert asked.english_terms == [] and asked.query == asked.ask


# -- disputes of the asker's own ----------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        "they threatened to sue me over my AI cover art, what do I do?",
        "I got a DMCA takedown notice for my AI art",
        "should I join the class action against Stability?",
        "Someone copied my AI artwork and sells it on Etsy, can I sue them?",
        "I found out my drawings were scraped into a dataset without asking me, is that legal?",
        "some of my youtube videos have been downloaded for an AI project, can they do that?",
    ],
)
def test_a_dispute_of_the_askers_own_is_personal(question: str) -> None:
    asked = read(question)
    assert asked.personal and asked.dispute


def test_asking_what_to_do_is_personal_but_no_dispute() -> None:
    asked = read("I sometimes just Google an image and use it on my blog. What should I do?")
    assert asked.personal and not asked.dispute


@pytest.mark.parametrize(
    "question",
    [
        "Can Midjourney claim my images?",
        "Who owns AI art in the US?",
        "Did the NYT sue OpenAI over training data?",
        "What did the court hold in Thaler v. Perlmutter?",
        "If my images are AI-generated, can anyone copy them?",
        "Is my art protected if I used Midjourney for the background?",
        "can I opt out of my art being used to train AI?",
    ],
)
def test_a_general_question_is_not_personal(question: str) -> None:
    assert not read(question).personal


# -- properties ---------------------------------------------------------------------------------

PIECES = st.sampled_from(
    [" ", "\n", "\n\n", "\t", "> ", ">", "?", "？", "!", ",", ". ", ":", "@here", "<@123>", "[a](http://x)",
     "https://example.org/a", "Hi", "Happy New Year", "Cosmo", "Thanks", "quick question:", "and",
     "what about", "who owns", "AI", "art", "Urheberrecht", "KI", "版权", "画像", "저작권", "v.", "sue me"]
)  # fmt: skip
TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(PIECES, st.text(max_size=8)), max_size=30).map("".join),
)


@FAST
@given(TEXT)
def test_read_never_fails_and_finds_an_ask_in_any_text(question: str) -> None:
    asked = read(question)
    assert asked.text == " ".join(question.split())
    if question.strip():
        assert asked.ask.strip()
    assert asked.ask == " ".join(asked.ask.split())  # whitespace collapsed, no line breaks
    assert asked.language in {"en", "de", "fr", "es", "it", "pt", "nl", "zh", "ja", "ko"}
    assert asked.query.startswith(asked.ask)


def test_the_maker_of_an_openai_model_named_goes_into_the_query_once() -> None:
    assert read("can I use GPT-4 output to train my own model?").query.endswith("OpenAI ChatGPT")
    assert read("Who owns what I make with DALL-E 3?").makers == ["OpenAI ChatGPT"]
    assert read("Does OpenAI own what GPT-4o writes?").makers == []  # named already
    assert read("Can I sell Midjourney images?").makers == []


@pytest.mark.parametrize(
    ("question", "ask"),
    [
        ("can i copywrite my ai art", "can i copyright my ai art"),
        ("Is AI art copywritable?", "Is AI art copyrightable?"),
        ("is this image copywritten", "is this image copyrighted"),
        ("Can I use SDXL for commerical use?", "Can I use SDXL for commercial use?"),
        ("Does the liscense allow it?", "Does the license allow it?"),
        (
            "does it get sticky when midnourney profits off it?",
            "does it get sticky when Midjourney profits off it?",
        ),
        ("can i sell chatgtp output", "can i sell ChatGPT output"),
    ],
)
def test_the_subjects_words_misspelt_are_put_right_in_the_ask(question: str, ask: str) -> None:
    asked = read(question)
    assert asked.ask == ask
    assert asked.text == question  # what the user sees echoed stays as asked


@pytest.mark.parametrize(
    "question",
    [
        "Will AI replace copywriters?",
        "Is copywriting with AI allowed?",
        "Do copilots need a licence?",  # a plural, no misspelling
        "Is the complexity of copyright law a problem?",
        "Do I have the ability to sell AI art?",  # close to "stability", but a word of its own
    ],
)
def test_words_that_only_look_misspelt_stay(question: str) -> None:
    assert read(question).ask == question


def test_a_forums_tag_before_a_title_is_no_part_of_the_ask() -> None:
    # "[PubQ]" was looked up as a name the sources never mention
    asked = read("[PubQ] Are there red flags in publishers' AI clauses?")
    assert asked.ask == "Are there red flags in publishers' AI clauses?"
