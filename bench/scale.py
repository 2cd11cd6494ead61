"""Scale: index time and query latency on synthetic corpora of 1k, 10k and 50k chunks.

    python -m bench.scale [--sizes 1000 10000 50000] [--real-upto 1000]

The corpora are Markdown files written to a scratch folder: front matter, then sections of
600-850 characters (one chunk each) made of sentences drawn from knowledge/, with a made-up
case name in each section so that names are rare, as in real files. They go through the whole
indexer: loader, splitter, LangChain indexing API and record manager, Chroma.

On this machine the bundled model embeds about 15 chunks a second, so 50k chunks would take
almost an hour in the model alone. So, for each size:
- every stage but the model is measured for real: the documents are embedded by a stand-in
  (a hashed bag of words, 384 dimensions, microseconds a chunk), whose own time is subtracted;
- the model's time is measured on a sample of the same synthetic chunks (bare model, the
  bot's batch size) and extrapolated linearly (per-chunk cost does not depend on corpus size);
- sizes up to --real-upto are also indexed with the real model end to end, which checks the
  extrapolation.
Queries always embed the question with the real model. That cost does not depend on the corpus
and is measured on its own (embed_query); the retrieval latency plotted is the retriever's own
(question vectors computed beforehand): the 97 dev questions, warm, through the hybrid retriever.
The first query after indexing (which reads all chunks and builds BM25) is reported on its own.
Writes bench/results/scale.json and scale.png.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from bench.common import (
    KNOWLEDGE,
    QUESTIONS,
    RESULTS,
    TimedEmbeddings,
    make_settings,
    quiet_logs,
    scratch,
    summary_ms,
    table,
    wait_for_quiet,
    write_result,
)
from bench.proposals import PostingsBM25, install_paged_get
from bot.build import build
from bot.core.text import sentences, tokens
from bot.eval import evaluate
from bot.index.embeddings import LocalEmbeddings
from bot.jurisdictions import jurisdictions_in
from bot.knowledge import loader
from bot.rag.engine import PASSAGES

SECTIONS_PER_FILE = 10
CODES = ["CN", "US", "EU", "DE", "UK", "JP", "IN", "CA", "AU", "KR", "INTL"]
SYLLABLES = "zor quen blat mor vex lin tar osk rud pel kai dro fen wim".split()


class StandInEmbeddings(Embeddings):
    """Documents: a hashed bag of words (fast, deterministic). Queries: the real model."""

    def __init__(self, real: LocalEmbeddings, dimensions: int = 384) -> None:
        self.real = real
        self.dimensions = dimensions

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "little") % self.dimensions] += 1.0
        out /= np.linalg.norm(out, axis=1, keepdims=True) + 1e-9
        return out.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.real.embed_query(text)


class PrecomputedQueries(Embeddings):
    """Question vectors computed beforehand (their cost is measured on its own), so that the
    retrieval latency measured is the retriever's: it is what grows with the corpus."""

    def __init__(self, inner: Embeddings, questions: list[str]) -> None:
        self.inner = inner
        self.vectors: dict[str, list[float]] = {}
        self.seconds: list[float] = []
        for q in questions:
            started = time.perf_counter()
            self.vectors[q] = inner.embed_query(q)
            self.seconds.append(time.perf_counter() - started)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.vectors[text] if text in self.vectors else self.inner.embed_query(text)


def source_sentences() -> list[str]:
    """Prose sentences of the real knowledge base, 40-300 characters."""
    texts, _ = loader.load_all(KNOWLEDGE)
    found = []
    for t in texts:
        for s in sentences(t.text[t.body_start :]):
            line = " ".join(s.text.split())
            if 40 <= len(line) <= 300 and not line.startswith(("#", "-", "http", "|")) and "http" not in line:
                found.append(line)
    return found


def made_up_name(rng: random.Random) -> str:
    def word() -> str:
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()

    return f"{word()} v. {word()}"


def write_corpus(folder: Path, chunks: int, pool: list[str], seed: int = 7) -> int:
    """Files of SECTIONS_PER_FILE sections until `chunks` sections are written; returns files."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    files = 0
    written = 0
    while written < chunks:
        code = rng.choice(CODES)
        lines = [
            "---",
            f'title: "Synthetic ruling {files}: {made_up_name(rng)}"',
            f"url: https://example.org/synthetic/{files}",
            "publisher: Benchmark",
            f"published: 20{rng.randint(10, 25)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            f"jurisdiction: {code}",
            "kind: case",
            "---",
            f"# Synthetic ruling {files}",
            "",
        ]
        for section in range(min(SECTIONS_PER_FILE, chunks - written)):
            body = f"In {made_up_name(rng)}, a court in {code} considered this."
            while len(body) < 600:
                body += " " + rng.choice(pool)
            body = body[:850].rsplit(" ", 1)[0] + "."
            lines += [f"## Part {section + 1}", "", body, ""]
            written += 1
        (folder / f"synthetic-{files:05d}.md").write_text("\n".join(lines), encoding="utf-8")
        files += 1
    return files


def model_seconds_per_chunk(model: LocalEmbeddings, texts: list[str]) -> float:
    model.model.encode(texts[:32], batch_size=model.batch_size, show_progress_bar=False)  # warm-up
    started = time.perf_counter()
    model.model.encode(texts, batch_size=model.batch_size, normalize_embeddings=True, show_progress_bar=False)
    return (time.perf_counter() - started) / len(texts)


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(knowledge: Path, data: Path, embeddings: Embeddings, questions: list[str]) -> dict[str, Any]:
    """Full index, then the first query (loads BM25) and warm retrieval latency."""
    timed = TimedEmbeddings(embeddings)
    settings = make_settings(knowledge, data)
    parts = build(settings, embeddings=timed)
    indexer = parts.indexer
    started = time.perf_counter()
    report = indexer.reindex()
    index_s = time.perf_counter() - started
    queries = PrecomputedQueries(timed.inner, questions)
    engine = build(settings, embeddings=queries, client=parts.client).engine
    as_is_error = ""
    started = time.perf_counter()
    try:
        engine.retriever.search(questions[0], k=PASSAGES)
    except Exception as error:  # measured and reported: the engine as it is cannot load the corpus
        as_is_error = f"{type(error).__name__}: {error}"
        print(f"  as is, the first query fails: {as_is_error[:150]}", flush=True)
        install_paged_get()
        engine = build(settings, embeddings=queries, client=parts.client).engine
        started = time.perf_counter()
        engine.retriever.search(questions[0], k=PASSAGES)
    first_query_s = time.perf_counter() - started
    for q in questions[:5]:
        engine.retriever.search(q, k=PASSAGES)
    latencies = []
    for q in questions:
        started = time.perf_counter()
        engine.retriever.search(q, k=PASSAGES, boost=jurisdictions_in(q) or None)
        latencies.append(time.perf_counter() - started)
    # The same corpus with the proposed postings BM25 in place of rank_bm25 (same scores).
    corpus = engine.retriever.corpus()
    started = time.perf_counter()
    corpus.bm25 = PostingsBM25([tokens(t) for t in corpus.texts])  # duck-typed: get_scores
    postings_build_s = time.perf_counter() - started
    with_postings = []
    for q in questions:
        started = time.perf_counter()
        engine.retriever.search(q, k=PASSAGES, boost=jurisdictions_in(q) or None)
        with_postings.append(time.perf_counter() - started)
    return {
        "chunks": report.chunks,
        "files": report.files,
        "index_s": round(index_s, 2),
        "embed_s": round(timed.seconds, 2),
        "non_model_s": round(index_s - timed.seconds, 2),
        "first_query_s": round(first_query_s, 2),
        "as_is_error": as_is_error,
        "paged_corpus_read": as_is_error != "",
        "retrieval": summary_ms(latencies),
        "embed_query": summary_ms(queries.seconds),
        "retrieval_postings_bm25": summary_ms(with_postings),
        "postings_bm25_build_s": round(postings_build_s, 2),
        "rss_mib_after": round(rss_mib(), 1),
    }


def plot(rows: list[dict[str, Any]], path: Path, model_rate: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["chunks"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot(
        sizes,
        [r["index_s_estimated"] for r in rows],
        "o-",
        label=f"full index, model extrapolated at {model_rate:.0f} chunks/s",
    )
    left.plot(sizes, [r["stand_in"]["non_model_s"] for r in rows], "s--", label="everything but the model")
    real = [r for r in rows if r.get("real")]
    if real:
        left.plot(
            [r["chunks"] for r in real],
            [r["real"]["index_s"] for r in real],
            "k*",
            ms=12,
            label="full index, real model (measured)",
        )
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("chunks")
    left.set_ylabel("seconds")
    left.set_title("Index time")
    left.grid(True, which="both", alpha=0.3)
    left.legend(fontsize=8)
    right.plot(sizes, [r["stand_in"]["retrieval"]["p50_ms"] for r in rows], "o-", label="p50")
    right.plot(sizes, [r["stand_in"]["retrieval"]["p95_ms"] for r in rows], "s-", label="p95")
    right.plot(
        sizes,
        [r["stand_in"]["retrieval_postings_bm25"]["p50_ms"] for r in rows],
        "o--",
        label="p50, proposed postings BM25",
    )
    right.plot(
        sizes,
        [r["stand_in"]["retrieval_postings_bm25"]["p95_ms"] for r in rows],
        "s--",
        label="p95, proposed postings BM25",
    )
    right.set_xscale("log")
    right.set_xlabel("chunks")
    right.set_ylabel("ms")
    right.set_title("Retrieval, warm (question embedded beforehand)")
    right.grid(True, which="both", alpha=0.3)
    right.legend(fontsize=8)
    fig.suptitle("Scale on synthetic corpora (2 cores, all-MiniLM-L6-v2 on CPU)", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--replot", action="store_true", help="only redraw scale.png from scale.json")
    parser.add_argument(
        "--real-upto", type=int, default=1000, help="also index sizes up to this with the real model"
    )
    args = parser.parse_args()
    if args.replot:
        saved = json.loads((RESULTS / "scale.json").read_text(encoding="utf-8"))
        plot(saved["rows"], RESULTS / "scale.png", saved["model_chunks_per_s_used_for_extrapolation"])
        return
    quiet_logs()
    load_before = wait_for_quiet()
    model = LocalEmbeddings()
    stand_in = StandInEmbeddings(model)
    questions = [str(r["question"]) for r in evaluate.read_questions(QUESTIONS)]
    pool = source_sentences()
    rows: list[dict[str, Any]] = []
    with scratch("scale") as work:
        sample_dir = work / "sample"
        write_corpus(sample_dir, 512, pool, seed=1)
        sample = [c.page_content for t in loader.load_all(sample_dir)[0] for c in loader.chunk(t)]
        per_chunk = sample_per_chunk = model_seconds_per_chunk(model, sample)
        print(f"model: {1 / per_chunk:.1f} chunks/s on {len(sample)} synthetic chunks", flush=True)
        for size in args.sizes:
            knowledge = work / f"corpus-{size}" / "knowledge"
            started = time.perf_counter()
            files = write_corpus(knowledge, size, pool)
            generate_s = time.perf_counter() - started
            row: dict[str, Any] = {"size": size, "files_written": files, "generate_s": round(generate_s, 2)}
            row["stand_in"] = measure(knowledge, work / f"data-{size}", stand_in, questions)
            row["chunks"] = row["stand_in"]["chunks"]
            if size <= args.real_upto:
                row["real"] = measure(knowledge, work / f"data-{size}-real", model, questions)
            rows.append(row)
            r = row["stand_in"]["retrieval"]
            print(
                f"{row['chunks']:>6} chunks: everything but the model {row['stand_in']['non_model_s']} s, "
                f"retrieval p50 {r['p50_ms']} ms p95 {r['p95_ms']} ms, "
                f"first query {row['stand_in']['first_query_s']} s"
                + (f"; real model end to end {row['real']['index_s']} s" if "real" in row else ""),
                flush=True,
            )
    # The model's cost a chunk: from the real-model index runs when there are any (the same
    # chunks, inside the indexer), else from the sample. Linear in the number of chunks.
    real_rows = [r["real"] for r in rows if "real" in r]
    if real_rows:
        per_chunk = sum(r["embed_s"] for r in real_rows) / sum(r["chunks"] for r in real_rows)
    for row in rows:
        row["model_s_extrapolated"] = round(per_chunk * row["chunks"], 1)
        row["index_s_estimated"] = round(row["stand_in"]["non_model_s"] + row["model_s_extrapolated"], 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    plot(rows, RESULTS / "scale.png", 1 / per_chunk)
    print()
    print(
        table(
            [
                "chunks",
                "files",
                "index s (est.)",
                "of which model (extrap.)",
                "not model (measured)",
                "real model, measured s",
                "first query s",
                "retrieval p50 ms",
                "p95 ms",
                "p50 / p95 ms, postings BM25",
                "RSS MiB",
            ],
            [
                [
                    r["chunks"],
                    r["stand_in"]["files"],
                    r["index_s_estimated"],
                    r["model_s_extrapolated"],
                    r["stand_in"]["non_model_s"],
                    r["real"]["index_s"] if "real" in r else "-",
                    r["stand_in"]["first_query_s"],
                    r["stand_in"]["retrieval"]["p50_ms"],
                    r["stand_in"]["retrieval"]["p95_ms"],
                    "{p50_ms} / {p95_ms}".format(**r["stand_in"]["retrieval_postings_bm25"]),
                    r["stand_in"]["rss_mib_after"],
                ]
                for r in rows
            ],
        )
    )
    result = {
        "model_chunks_per_s_sample": round(1 / sample_per_chunk, 2),
        "model_sample_chunks": len(sample),
        "model_chunks_per_s_used_for_extrapolation": round(1 / per_chunk, 2),
        "extrapolated_from": "real-model index runs" if real_rows else "sample",
        "rows": rows,
        "plot": "bench/results/scale.png",
        "load_average_before": load_before,
    }
    print(f"\nwrote {write_result('scale', result)} and {RESULTS / 'scale.png'}")


if __name__ == "__main__":
    main()
