"""Indexing speed: a full index of knowledge/ against the raw speed of the embedding model.

    python -m bench.index [--rounds 3]

Each round embeds the same chunk texts with the bare model (sentence-transformers `encode`, the
batch size the bot uses) and runs a full index of a private copy of knowledge/ into an empty
data folder, alternately, so that both see the same machine load. Then: a reindex with nothing
changed (seconds, embedding calls) and one with a single file edited. One more full index runs
under cProfile, and the functions with the most time of their own go to the JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import (
    TimedEmbeddings,
    copy_knowledge,
    make_settings,
    quiet_logs,
    scratch,
    table,
    wait_for_quiet,
    write_result,
)
from bot.build import build
from bot.index.embeddings import LocalEmbeddings
from bot.index.indexer import Indexer
from bot.knowledge import loader


def chunk_texts(knowledge_dir: Path) -> list[str]:
    """The page_content of every chunk the indexer will embed."""
    texts, _ = loader.load_all(knowledge_dir)
    return [c.page_content for t in texts for c in loader.chunk(t)]


def raw_encode(model: LocalEmbeddings, texts: list[str]) -> float:
    """Seconds for the bare model to embed the texts (no LangChain, no Chroma, no lists of floats)."""
    started = time.perf_counter()
    model.model.encode(texts, batch_size=model.batch_size, normalize_embeddings=True, show_progress_bar=False)
    return time.perf_counter() - started


def full_index(knowledge_dir: Path, data_dir: Path, embeddings: LocalEmbeddings) -> dict[str, Any]:
    timed = TimedEmbeddings(embeddings)
    settings = make_settings(knowledge_dir, data_dir)
    indexer = build(settings, embeddings=timed).indexer
    started = time.perf_counter()
    report = indexer.reindex()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "chunks": report.chunks,
        "embed_seconds": timed.seconds,
        "embedding_calls": indexer.embeddings.calls,
        "indexer": indexer,
    }


def profile_full_index(
    knowledge_dir: Path, data_dir: Path, embeddings: LocalEmbeddings
) -> list[dict[str, Any]]:
    """Where a full index spends its time outside the model: the top functions by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    full_index(knowledge_dir, data_dir, embeddings)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    rows = []
    for (path, line, name), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{Path(path).name}:{line}({name})",
                "calls": calls,
                "own_s": round(own, 3),
                "cumulative_s": round(cumulative, 3),
            }
        )
    rows.sort(key=lambda r: r["own_s"], reverse=True)
    return rows[:15]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    quiet_logs()
    load_before = wait_for_quiet()
    started = time.perf_counter()
    embeddings = LocalEmbeddings()
    assert embeddings.model is not None  # the model may load on first use: load it here
    model_load = time.perf_counter() - started
    with scratch("index") as work:
        knowledge = copy_knowledge(work)
        texts = chunk_texts(knowledge)
        raw_encode(embeddings, texts[:64])  # warm-up: first batches pay for allocations
        raw_runs: list[float] = []
        ours_runs: list[dict[str, Any]] = []
        for i in range(args.rounds):
            raw_runs.append(raw_encode(embeddings, texts))
            ours_runs.append(full_index(knowledge, work / f"data-{i}", embeddings))
            print(f"round {i + 1}: raw {raw_runs[-1]:.1f} s, full index {ours_runs[-1]['seconds']:.1f} s")
        raw_s = statistics.median(raw_runs)
        ours_s = statistics.median(r["seconds"] for r in ours_runs)
        embed_s = statistics.median(r["embed_seconds"] for r in ours_runs)
        chunks = ours_runs[0]["chunks"]
        assert chunks == len(texts), (chunks, len(texts))

        indexer: Indexer = ours_runs[-1]["indexer"]
        calls_before = indexer.embeddings.calls
        started = time.perf_counter()
        unchanged = indexer.reindex()
        unchanged_s = time.perf_counter() - started
        unchanged_calls = indexer.embeddings.calls - calls_before

        edited = sorted(knowledge.glob("*.md"))[0]
        body = edited.read_text(encoding="utf-8")
        cut = body.find("\n## Sources")  # the Sources section is not indexed: edit above it
        cut = len(body) if cut < 0 else cut
        edited.write_text(body[:cut] + "\n\nOne more sentence, added by the benchmark.\n" + body[cut:])
        calls_before, texts_before = indexer.embeddings.calls, indexer.embeddings.texts
        started = time.perf_counter()
        one_file = indexer.reindex()
        one_file_s = time.perf_counter() - started
        one_file_calls = indexer.embeddings.calls - calls_before
        one_file_texts = indexer.embeddings.texts - texts_before

        hot = profile_full_index(knowledge, work / "data-profile", embeddings)

    raw_rate, ours_rate = len(texts) / raw_s, chunks / ours_s
    result = {
        "files": unchanged.files,
        "chunks": chunks,
        "model_load_s": round(model_load, 2),
        "raw_runs_s": [round(x, 2) for x in raw_runs],
        "full_index_runs_s": [round(r["seconds"], 2) for r in ours_runs],
        "raw_chunks_per_s": round(raw_rate, 1),
        "ours_chunks_per_s": round(ours_rate, 1),
        "ratio": round(ours_rate / raw_rate, 3),
        "full_index_s": round(ours_s, 2),
        "full_index_embedding_s": round(embed_s, 2),
        "full_index_other_s": round(ours_s - embed_s, 2),
        "unchanged_reindex_s": round(unchanged_s, 3),
        "unchanged_reindex_embedding_calls": unchanged_calls,
        "unchanged_reindex_report": unchanged.to_dict(),
        "one_file_edited_s": round(one_file_s, 3),
        "one_file_edited_embedding_calls": one_file_calls,
        "one_file_edited_texts_embedded": one_file_texts,
        "one_file_edited_report": one_file.to_dict(),
        "profile_top_own_time": hot,
        "load_average_before": load_before,
    }
    print()
    print(
        table(
            ["measure", "value"],
            [
                ["files / chunks", f"{unchanged.files} / {chunks}"],
                ["raw model, chunks/s (median of rounds)", round(raw_rate, 1)],
                ["full index, chunks/s", round(ours_rate, 1)],
                ["ratio ours/raw (aim >= 0.8)", round(ours_rate / raw_rate, 3)],
                ["full index, s (of which in the model)", f"{ours_s:.2f} ({embed_s:.2f})"],
                ["reindex, nothing changed: s (aim < 2)", round(unchanged_s, 3)],
                ["reindex, nothing changed: embedding calls (aim 0)", unchanged_calls],
                [
                    "reindex, one file edited: s / calls / texts",
                    f"{one_file_s:.2f} / {one_file_calls} / {one_file_texts}",
                ],
                ["model load, s", round(model_load, 2)],
            ],
        )
    )
    print("\nfull index, top functions by own time (cProfile):")
    print(table(["function", "calls", "own s", "cumulative s"], [list(r.values()) for r in hot[:8]]))
    print(f"\nwrote {write_result('index', result)}")


if __name__ == "__main__":
    main()
