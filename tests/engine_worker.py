"""A bot-like engine process for multi-process tests, driven one JSON line at a time on stdin.

    python -m tests.engine_worker      (settings from the environment, as `python bot.py run`)

It builds what a bot process builds (`bot.build.build`: an Indexer and an Engine sharing one
Chroma client; a FeedbackStore), prints {"ready": pid, "holder": "host:pid"} and then answers
each request line with one JSON line:

    {"op": "reindex", "full": true, "pause_at": 8}  -> {"report": {...}} or {"error": "...", "message": "..."}
        with pause_at, it prints {"paused": files_done} once that many files are indexed (holding
        the lease) and waits for any line on stdin before going on
    {"op": "reindex", "guild": 123}                  -> the same, for one server's own sources
    {"op": "ask", "question": "...", "guild": 123}   -> {"status": "...", "citations": n, "sources": [...],
                                                         "generation": g}  (guild optional)
    {"op": "record", "count": n, "channel_id": c}    -> {"ids": [...]}  (answers, each shown in one message)
    {"op": "vote", "votes": [[answer_id, user_id, helpful], ...]} -> {"previous": [...]}
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import sys
from typing import Any

from bot.build import build
from bot.config import Settings
from bot.core.types import Answer, Progress, Status
from bot.discordbot.feedback import FeedbackStore
from bot.index import store
from bot.index.indexer import Indexer
from bot.knowledge.scopes import Scope
from bot.rag.engine import Engine


def send(message: dict[str, Any]) -> None:
    print(json.dumps(message), flush=True)


def main() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    parts = build(settings)
    indexer, engine = parts.indexer, parts.engine
    feedback = FeedbackStore.from_settings(settings)
    indexer.embeddings.embed_query("load the model now")
    send({"ready": os.getpid(), "holder": f"{socket.gethostname()}:{os.getpid()}"})
    for line in sys.stdin:
        request = json.loads(line)
        try:
            send(handle(request, indexer, engine, feedback))
        except Exception as error:
            send({"error": type(error).__name__, "message": str(error)})


def handle(
    request: dict[str, Any], indexer: Indexer, engine: Engine, feedback: FeedbackStore
) -> dict[str, Any]:
    op = request["op"]
    if op == "reindex":
        pause_at = request.get("pause_at")

        def progress(p: Progress) -> None:
            nonlocal pause_at
            if pause_at is not None and p.phase == "indexing" and p.files_done >= pause_at:
                pause_at = None
                send({"paused": p.files_done})
                sys.stdin.readline()

        scoped = indexer.for_scope(Scope(request["guild"])) if request.get("guild") else indexer
        report = scoped.reindex(full=bool(request.get("full")), progress=progress)
        return {"report": dataclasses.asdict(report)}
    if op == "ask":
        answer = engine.answer(request["question"], guild=request.get("guild"))
        pointer = store.read_pointer(indexer.client, indexer.settings)
        return {
            "status": answer.status.value,
            "citations": len(answer.citations),
            "sources": [c.source for c in answer.citations],
            "generation": pointer.generation if pointer else None,
        }
    if op == "record":
        ids = []
        for n in range(int(request["count"])):
            answer = Answer(
                question=f"question {n} from {os.getpid()}",
                status=Status.ANSWERED,
                answer="an answer",
                mode="extractive",
            )
            answer_id = feedback.record_answer(
                answer, user_id=n, guild_id=1, channel_id=request["channel_id"]
            )
            feedback.attach_messages(answer_id, [answer_id * 1000 + os.getpid() % 1000])
            ids.append(answer_id)
        return {"ids": ids}
    if op == "vote":
        results = [feedback.vote(a, u, helpful=h) for a, u, h in request["votes"]]
        return {"previous": [r.previous for r in results]}
    raise ValueError(f"unknown op {op!r}")


if __name__ == "__main__":
    main()
