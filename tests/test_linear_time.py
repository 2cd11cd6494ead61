"""Every regular expression that reads user, file or model text runs in linear time.

A quadratic pattern freezes the whole bot: one `# a # # # … b` heading line of 39 KB stalled
the loader for 3.9 s, and 32k characters of model output stalled the event loop for 7-8 s. The
patterns are found in the source (every `re.compile`, `re.sub`, `re.search`… with a literal
pattern under bot/), so a new pattern is checked without anyone listing it here.

Times are never compared with a fixed number of seconds: each input is timed (in CPU time, the
fastest of several runs) at size n and 4n, where linear work grows about 4x and quadratic work
about 16x. A growth past 9x is measured twice more on 16x the input (linear ~16x, quadratic
~256x) and counts only if both pass 64x.
"""

from __future__ import annotations

import ast
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.core.text import plain, sentences
from bot.discordbot.splitting import split_message
from bot.knowledge import loader
from bot.rag import answer as answering
from bot.rag.retriever import Hit, name_tokens

BOT = Path(__file__).resolve().parent.parent / "bot"
RE_CALLS = {"compile", "sub", "subn", "search", "match", "fullmatch", "split", "findall", "finditer"}


def _flags(node: ast.Call) -> int:
    expr: ast.expr | None = None
    for keyword in node.keywords:
        if keyword.arg == "flags":
            expr = keyword.value
    if expr is None:
        positional = {"compile": 1, "search": 2, "match": 2, "fullmatch": 2, "findall": 2, "finditer": 2}
        index = positional.get(node.func.attr if isinstance(node.func, ast.Attribute) else "", 99)
        if node.func.attr in ("sub", "subn") if isinstance(node.func, ast.Attribute) else False:
            index = 4
        if node.func.attr == "split" if isinstance(node.func, ast.Attribute) else False:
            index = 3
        if len(node.args) > index:
            expr = node.args[index]
    if expr is None:
        return 0
    try:
        return int(eval(compile(ast.Expression(expr), "<flags>", "eval"), {"re": re}))  # noqa: S307 - our own source
    except Exception:  # flags from a variable: try without
        return 0


def patterns_in_source() -> list[tuple[str, re.Pattern[str]]]:
    found: dict[tuple[str, int], str] = {}
    for path in sorted(BOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"
                and node.func.attr in RE_CALLS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                continue
            key = (node.args[0].value, _flags(node))
            found.setdefault(key, f"{path.relative_to(BOT.parent)}:{node.lineno}")
    return [(where, re.compile(pattern, flags)) for (pattern, flags), where in found.items()]


PATTERNS = patterns_in_source()

# Pieces that hostile text repeats: the characters the patterns care about, alone and in pairs.
UNITS = [
    " ",
    "\n",
    "\t",
    "a",
    "A",
    "1",
    ".",
    "#",
    " #",
    "\t#",
    "[",
    "[1",
    "[1,",
    "[1 ,",
    " [",
    "]",
    "](",
    "[a](",
    "[a](x",
    "(",
    ")",
    "<",
    "<http://a",
    "http://",
    "https://a.",
    "`",
    "``",
    "*",
    "_",
    "@",
    "<@",
    "<@&1",
    "<#",
    "!",
    "?",
    "。",
    "\n\n",
    "\n ",
    " \n",
    "- ",
    "1.",
    "\n1.",
    ">",
    "a ",
    "A ",
    "a.",
    "A.",
    "v. ",
    "A. ",
    "Ab ",
    "a-",
    "a'",
    ".)",
    '."',
    "---",
    "\u4e00",
    "&",
    "ignore ",
    "ignore previous ",
    "<passages",
    "system ",
    "\\",
    "/",
    ":",
    ",",
    ";",
    "=",
    "-",
]
PREFIXES = ["", "# a", "[", "[1", "<http://", "http://", "`", "Ab v", "ignore "]
SUFFIXES = ["", "b", "\n", "!"]


def _elapsed(run: Callable[[], object], repeat: int) -> float:
    """The fastest of `repeat` runs, in CPU time of this thread (other processes on a busy
    machine do not count)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.thread_time()
        run()
        best = min(best, time.thread_time() - started)
    return best


def growth(
    make: Callable[[int], str], work: Callable[[str], object], n: int, repeat: int = 3, factor: int = 4
) -> float:
    """How much longer `work` takes on an input `factor` times as long."""
    small, large = make(n), make(factor * n)
    t_small = _elapsed(lambda: work(small), repeat)
    t_large = _elapsed(lambda: work(large), repeat)
    return t_large / max(t_small, 1e-6)


def is_superlinear(make: Callable[[int], str], work: Callable[[str], object]) -> bool:
    """Screened cheaply (n=300 against 4n: linear ~4x, quadratic ~16x), then confirmed twice on
    16x the input (linear ~16x, quadratic ~256x), so that a noisy moment cannot fail the test."""
    if growth(make, work, 300) < 9:
        return False
    return all(growth(make, work, 500, repeat=5, factor=16) >= 64 for _ in range(2))


def _hostile(prefix: str, unit: str, suffix: str) -> Callable[[int], str]:
    return lambda n: prefix + unit * (n // len(unit)) + suffix


def test_the_source_scan_finds_the_patterns() -> None:
    sources = {p.pattern for _, p in PATTERNS}
    assert len(PATTERNS) > 40
    assert any("#{1,6}" in s for s in sources)  # the heading pattern of the loader


@pytest.mark.parametrize(("where", "pattern"), PATTERNS, ids=[w for w, _ in PATTERNS])
def test_every_pattern_runs_in_linear_time(where: str, pattern: re.Pattern[str]) -> None:
    def work(text: str) -> object:
        return sum(1 for _ in pattern.finditer(text))

    for prefix in PREFIXES:
        for unit in UNITS:
            for suffix in SUFFIXES:
                if is_superlinear(_hostile(prefix, unit, suffix), work):
                    example = prefix + unit * 3 + suffix
                    pytest.fail(f"{where} {pattern.pattern!r} grows faster than linearly on {example!r}…")


# -- the functions that loop over matches, on the inputs that made them quadratic -------------


def _hits() -> list[Hit]:
    body = "On 27 November 2023 the Beijing Internet Court held that the image was a protected work."
    return [Hit("h1", body, {"source": "knowledge/a.md", "start": 0, "header_len": 0})]


def _verify(text: str) -> object:
    return answering.verify(text, _hits())


FUNCTIONS: list[tuple[str, Callable[[int], str], Callable[[str], object]]] = [
    ("heading line", lambda n: "# a" + " #" * (n // 2) + "b", lambda t: loader.sections(t, 0)),
    ("abbreviations in a claim", lambda n: "v. " * (n // 3) + "end [1].", _verify),
    ("initials in a claim", lambda n: "A. " * (n // 3) + "end [1].", _verify),
    ("a run of dots", lambda n: "." * n + "x [1]", _verify),
    ("spaces before no marker", lambda n: "a" + " " * n + "b [1].", _verify),
    ("markers", lambda n: "a [1] " * (n // 6), _verify),
    ("source sentences with initials", lambda n: "A. " * (n // 3) + "Done.", sentences),
    ("source sentences with case names", lambda n: "Li v. Liu " * (n // 10), sentences),
    ("names in a question", lambda n: "A. " * (n // 3), name_tokens),
    ("capitals in a question", lambda n: "Ab " * (n // 3), name_tokens),
    ("splitting markers", lambda n: "[1] " * (n // 4), split_message),
    ("splitting brackets", lambda n: "[" * n, split_message),
    ("splitting angle links", lambda n: "<http://a" * (n // 9), split_message),
    ("splitting masked links", lambda n: "[a](x" * (n // 5), split_message),
    ("plain text of a sentence", lambda n: "*a " * (n // 3), plain),
]


@pytest.mark.parametrize(("name", "make", "work"), FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_text_functions_run_in_linear_time(
    name: str, make: Callable[[int], str], work: Callable[[str], object]
) -> None:
    # Below the 8,000 characters at which a model's reply is cut (else the cap hides the growth),
    # and above the 2,000 of one Discord message (else nothing is split at all).
    sizes = (2100, 2500) if "splitting" in name else (1000, 1900)
    ratios = [growth(make, work, n, repeat=3) for n in sizes]
    assert min(ratios) < 9, f"{name}: 4x the input took {ratios} times as long"
