"""A throwaway PostgreSQL cluster on 127.0.0.1, for tests of the shared-database path.

`initdb` into a fresh temporary folder, `pg_ctl start` on a free port, one database per test,
`pg_ctl stop` and the folder removed at the end. PostgreSQL refuses to run as root, so under root
(as in CI) the cluster belongs to the `postgres` user (or `nobody`) and runs as that user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_bin_dir() -> Path:
    """The folder holding initdb and pg_ctl: PATH first, then Debian's /usr/lib/postgresql/N/bin."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    raise PostgresMissing(
        "PostgreSQL is not installed (no initdb/pg_ctl): `apt-get install postgresql` (.ci/run does it in CI)"
    )


class PostgresServer:
    """A PostgreSQL cluster of its own on 127.0.0.1, with `trust` authentication for one user."""

    user = "bot"

    def __init__(self) -> None:
        self.bin = find_bin_dir()
        self.run_as: str | None = None
        if os.geteuid() == 0:
            self.run_as = next((u for u in ("postgres", "nobody") if _user_exists(u)), None)
            if self.run_as is None:
                raise RuntimeError(
                    "running as root and there is no `postgres` or `nobody` user to run PostgreSQL"
                )
        # Not under pytest's tmp_path: that folder is private to root and the server user must enter it.
        self.root = Path(tempfile.mkdtemp(prefix="pg-test-"))
        self.data = self.root / "data"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self.started = False

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresServer:
        if self.run_as is not None:
            entry = pwd.getpwnam(self.run_as)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        initdb = ["-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8", "--no-sync"]
        self._run("initdb", *initdb, "--no-instructions")
        try:
            self._start()
        except RuntimeError:
            self.stop()
            raise
        return self

    def restart(self) -> None:
        """Stop (dropping every connection, as a database failover does) and start again, same port."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        self.started = False
        self._start()

    def _start(self) -> None:
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "  # a throwaway cluster
            # Not UTC, as many servers are not: a naive timestamp would be read as local time here.
            "-c timezone=Asia/Kolkata"
        )
        log = self.root / "server.log"  # also keeps the server off our pipes
        try:
            self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-o", options, "-w", "start")
        except RuntimeError as error:
            detail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{error}\n{detail}") from None
        self.started = True

    def create_database(self) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = f"t{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.started:
            with contextlib.suppress(RuntimeError):
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({done.returncode}): {(done.stderr or done.stdout)[-2000:]}"
            )


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
