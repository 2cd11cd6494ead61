"""A real Chroma server (`chroma run`) on 127.0.0.1, for tests and benchmarks."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


class ChromaServer:
    """`chroma run` on 127.0.0.1 with a folder of its own; can be stopped and started again."""

    def __init__(self, path: Path) -> None:
        executable = shutil.which("chroma", path=str(Path(sys.executable).parent)) or shutil.which("chroma")
        if executable is None:
            raise RuntimeError("the `chroma` command is not installed (pip install -r requirements.txt)")
        self.executable = executable
        self.path = path
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", self.port

    def start(self) -> ChromaServer:
        log = (self.path / "server.log").open("ab")
        self.process = subprocess.Popen(
            [
                self.executable,
                "run",
                "--path",
                str(self.path / "db"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=1):
                    return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    log_text = (self.path / "server.log").read_text()[-2000:]
                    raise RuntimeError(f"chroma run did not start: {log_text}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
