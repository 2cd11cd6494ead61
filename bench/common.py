"""What every benchmark shares: private settings and folders, timing helpers, the machine's
description, and writing results to bench/results/<name>.json."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from langchain_core.embeddings import Embeddings  # after the offline switches

from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
QUESTIONS = ROOT / "tests" / "eval" / "questions.jsonl"
RESULTS = ROOT / "bench" / "results"
SCRATCH = Path(os.environ.get("BENCH_SCRATCH") or Path(tempfile.gettempdir()) / "bench-scratch")

# Settings the benchmarks must not inherit from the developer's environment or .env.
CLEAN_ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "EMBEDDING_BACKEND",
    "KNOWLEDGE_DIR",
    "DATA_DIR",
    "CHROMA_HOST",
    "DISCORD_TOKEN",
)


def answerable_questions(count: int) -> list[str]:
    """`count` answerable questions of the dev set, spread evenly across it."""
    from bot.eval import evaluate

    rows = [r for r in evaluate.read_questions(QUESTIONS) if r.get("expect") == "answer"]
    step = max(1, len(rows) // count)
    return [str(r["question"]) for r in rows[::step]][:count]


def make_settings(knowledge_dir: Path, data_dir: Path, **overrides: Any) -> Settings:
    """Local embeddings, embedded Chroma under `data_dir`, no LLM unless given."""
    values: dict[str, Any] = {
        "knowledge_dir": knowledge_dir,
        "data_dir": data_dir,
        "embedding_backend": "local",
        "openai_api_key": None,
        "openai_base_url": None,
        "chroma_host": None,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def clean_environ(**extra: str) -> dict[str, str]:
    """The environment for a bot subprocess: ours, less the bot's settings, plus `extra`."""
    environ = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    environ.update(extra)
    return environ


@contextmanager
def scratch(name: str) -> Iterator[Path]:
    """An empty folder for one benchmark, removed afterwards."""
    path = SCRATCH / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def copy_knowledge(target_parent: Path) -> Path:
    """A private copy of knowledge/ (same folder name, so sources read `knowledge/...`)."""
    target = target_parent / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


class TimedEmbeddings(Embeddings):
    """Wraps an embedding model and adds up the seconds spent in it (from any thread)."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.texts = 0
        self._lock = threading.Lock()

    def _add(self, started: float, count: int) -> None:
        with self._lock:
            self.seconds += time.perf_counter() - started
            self.texts += count

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        started = time.perf_counter()
        try:
            return self.inner.embed_documents(texts)
        finally:
            self._add(started, len(texts))

    def embed_query(self, text: str) -> list[float]:
        started = time.perf_counter()
        try:
            return self.inner.embed_query(text)
        finally:
            self._add(started, 1)


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100), linear between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * p / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p95, max and mean of durations, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 1),
        "p95_ms": round(percentile(ms, 95), 1),
        "max_ms": round(max(ms), 1) if ms else float("nan"),
        "mean_ms": round(statistics.fmean(ms), 1) if ms else float("nan"),
    }


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    """nproc, memory, CPU model, load, versions: enough to judge the figures."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    try:
        import torch

        torch_threads = torch.get_num_threads()
        torch_version = str(torch.__version__)
    except ImportError:
        torch_threads, torch_version = 0, ""
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": cpu,
        "python": platform.python_version(),
        "torch": torch_version,
        "torch_threads": torch_threads,
        "platform": platform.platform(),
    }


def git_state() -> dict[str, Any]:
    """The commit measured, and which files under bot/ differed from it (work in progress)."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout

    changed = [line[3:] for line in git("status", "--porcelain", "bot").splitlines() if line.strip()]
    return {"commit": git("rev-parse", "--short", "HEAD").strip(), "bot_files_changed": changed}


def write_result(name: str, data: dict[str, Any]) -> Path:
    """bench/results/<name>.json, with the date, the machine and the load when it ran."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "python -m bench." + name + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else ""),
        "machine": machine(),
        "git": git_state(),
        "load_average_after": load_average(),
        **data,
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def table(heads: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (it reads fine as plain text)."""

    def fmt(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
        return str(value)

    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def quiet_logs() -> None:
    """Library chatter off, as the CLI does."""
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("chromadb", "httpx", "sentence_transformers", "transformers", "langchain", "openai"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        import transformers

        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()
    except ImportError:
        pass


def wait_for_quiet(limit_s: float = 180.0, below: float = 1.0) -> list[float]:
    """Wait (up to `limit_s`) for the 1-minute load average to fall below `below`, so that other
    work on a shared machine disturbs the figures less; returns the load when starting."""
    deadline = time.monotonic() + limit_s
    while os.getloadavg()[0] >= below and time.monotonic() < deadline:
        time.sleep(5)
    return load_average()
