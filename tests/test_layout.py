"""The code's layout rules, read from the source: a leading underscore means "this module only",
and imports run downward, from the front ends to the stages that answer and below."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("bot", "bench")

# Lowest first. A module may import from its own layer and the layers below it, never above:
# the answering stages know nothing of Discord, the command line or the evaluation.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("bot.config", "bot.logs", "bot.core", "bot.jurisdictions"),
    ("bot.knowledge",),
    ("bot.index",),
    ("bot.rag",),
    ("bot.eval",),
    ("bot.discordbot",),
    ("bot.cli", "bot.__main__"),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def is_ours(module: str) -> bool:
    return module.split(".")[0] in CHECKED


def is_module(dotted: str) -> bool:
    """Whether a dotted name is one of our modules or packages."""
    base = ROOT.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def resolve(node: ast.ImportFrom, here: str, is_package: bool) -> str:
    """The absolute module a `from ... import` reads, relative imports included."""
    if not node.level:
        return node.module or ""
    parts = here.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imported_modules(tree: ast.AST, here: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, module) for every import of the file, lazy ones inside functions included."""
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = resolve(node, here, is_package)
            out.append((node.lineno, module))
            out += [
                (node.lineno, f"{module}.{a.name}") for a in node.names if is_module(f"{module}.{a.name}")
            ]
    return out


def private_uses(source: str, here: str, *, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, what) for every private name of another module that the source imports or reads:
    `from a import _x`, `import a; a._x`, `from pkg import mod; mod._x`, and private modules of
    ours (`from bot._x import y`)."""
    tree = ast.parse(source)
    problems: list[tuple[int, str]] = []
    modules: dict[str, str] = {}  # local name -> the module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    modules[alias.asname] = alias.name
                else:
                    root = alias.name.split(".")[0]
                    modules[root] = root
                if is_ours(alias.name) and any(is_private(p) for p in alias.name.split(".")):
                    problems.append((node.lineno, f"imports the private module {alias.name}"))
        elif isinstance(node, ast.ImportFrom):
            module = resolve(node, here, is_package)
            if is_ours(module) and any(is_private(p) for p in module.split(".")):
                problems.append((node.lineno, f"imports from the private module {module}"))
            for alias in node.names:
                if is_private(alias.name):
                    problems.append((node.lineno, f"imports {alias.name} from {module}"))
                elif is_module(f"{module}.{alias.name}"):
                    modules[alias.asname or alias.name] = f"{module}.{alias.name}"
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and is_private(node.attr)):
            continue
        chain: list[str] = []
        value = node.value
        while isinstance(value, ast.Attribute):
            chain.insert(0, value.attr)
            value = value.value
        if isinstance(value, ast.Name) and value.id in modules:
            dotted = ".".join([modules[value.id], *chain])
            if not chain or is_module(dotted):
                problems.append((node.lineno, f"reads {node.attr} of {dotted}"))
    return problems


def python_files() -> list[Path]:
    return sorted(p for folder in CHECKED for p in (ROOT / folder).rglob("*.py"))


def layer_of(module: str) -> int | None:
    for i, layer in enumerate(LAYERS):
        if any(module == top or module.startswith(top + ".") for top in layer):
            return i
    return None


def test_the_check_finds_each_way_of_reaching_a_private_name() -> None:
    source = (
        "import bot.rag.answer\n"
        "import bot.core.text as text\n"
        "from bot.rag import retriever\n"
        "from bot.knowledge.library import _check_url, check_name\n"
        "from bot.rag.retriever import _private as fine_name\n"
        "bot.rag.answer._hidden\n"
        "text._hidden\n"
        "retriever._hidden\n"
        "check_name._not_a_module\n"
        "from bot._nowhere import x\n"
        "_own_private = 1\n"
    )
    found = private_uses(source, "bot.rag.example")
    assert [line for line, _ in found] == [4, 5, 10, 6, 7, 8]
    assert (4, "imports _check_url from bot.knowledge.library") in found
    assert (6, "reads _hidden of bot.rag.answer") in found
    assert private_uses("from . import _sibling\n", "bot.rag.example") == [
        (1, "imports _sibling from bot.rag")
    ]


def test_no_module_imports_or_reads_another_modules_private_names() -> None:
    problems = []
    for path in python_files():
        here = module_name(path)
        found = private_uses(path.read_text(encoding="utf-8"), here, is_package=path.name == "__init__.py")
        problems += [f"{path.relative_to(ROOT)}:{line}: {what}" for line, what in found]
    assert not problems, "a leading underscore means this module only:\n" + "\n".join(problems)


def upward_imports(source: str, here: str, *, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, module) for every import of a module from a layer above `here`'s."""
    mine = layer_of(here)
    if mine is None:
        return []
    found = imported_modules(ast.parse(source), here, is_package)
    return [(line, module) for line, module in found if (layer_of(module) or 0) > mine]


def test_the_check_finds_an_import_from_a_layer_above() -> None:
    source = (
        "from bot.core.text import tokens\nfrom bot.discordbot import rendering\nimport bot.eval.evaluate\n"
    )
    assert upward_imports(source, "bot.rag.example") == [
        (2, "bot.discordbot"),
        (2, "bot.discordbot.rendering"),
        (3, "bot.eval.evaluate"),
    ]
    assert upward_imports(source, "bot.cli") == []


def test_imports_run_downward() -> None:
    problems = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        here = module_name(path)
        found = upward_imports(path.read_text(encoding="utf-8"), here, is_package=path.name == "__init__.py")
        problems += [
            f"{path.relative_to(ROOT)}:{line}: {here} imports {module}, a layer above it"
            for line, module in found
        ]
    assert not problems, "\n".join(problems)


def test_the_layers_name_real_packages() -> None:
    for layer in LAYERS:
        for module in layer:
            assert is_module(module), module
