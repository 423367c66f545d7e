"""A throwaway PostgreSQL server for the store tests: Debian's own binaries, a temporary folder, no network.

``running_server()`` runs ``initdb`` into a new temporary folder and ``pg_ctl start`` with the server
listening only on a Unix socket in that folder (``listen_addresses=''``), on a port that was free, with
``trust`` authentication for its own superuser ``postgres``. The server runs as the current user, or, when
the tests run as root (which PostgreSQL refuses), as the unprivileged ``postgres`` user Debian's package
creates (else ``nobody``). It is stopped and its folder removed on exit.

The binaries are found in ``$ATLAS_TEST_PG_BINDIR``, ``/usr/lib/postgresql/<newest>/bin`` (Debian's
``postgresql`` package: ``scripts/test`` installs it) or ``PATH``; if there are none,
``PostgresMissing`` says how to install them (the tests then fail, they do not skip).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from psycopg import conninfo

SUPERUSER = "postgres"
DATABASE = "atlas_test"


class PostgresMissing(RuntimeError):
    """PostgreSQL's server binaries are not on this machine."""


def find_bindir() -> Path:
    """Where ``initdb``, ``pg_ctl`` and ``postgres`` are; ``PostgresMissing`` with what to do if nowhere."""
    candidates: list[Path] = []
    if os.environ.get("ATLAS_TEST_PG_BINDIR"):
        candidates.append(Path(os.environ["ATLAS_TEST_PG_BINDIR"]))

    def major(path: str) -> float:
        try:
            return float(Path(path).parent.parent.name)
        except ValueError:
            return 0.0

    candidates += [
        Path(p).parent for p in sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=major, reverse=True)
    ]
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    for directory in candidates:
        if all((directory / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return directory
    raise PostgresMissing(
        "PostgreSQL's server programs (initdb, pg_ctl, postgres) were not found in $ATLAS_TEST_PG_BINDIR, "
        "/usr/lib/postgresql/*/bin or PATH. The store tests run against a real server: install Debian's "
        "package with `sudo apt-get install -y postgresql` (./scripts/test does this when it is missing)."
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One server in its own folder. ``dsn()`` for psycopg, ``url()`` for ``ATLAS_STORE_URL``."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="atlas-pg-"))  # short: a socket path has ~100 bytes
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self._user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            self._user = self._unprivileged_user()
            os.chown(self.root, self._user.pw_uid, self._user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-locale", "-N")

    @staticmethod
    def _unprivileged_user() -> pwd.struct_passwd:
        for name in ("postgres", "nobody"):
            try:
                return pwd.getpwnam(name)
            except KeyError:
                continue
        raise PostgresMissing("running as root, and neither a 'postgres' nor a 'nobody' user exists to run the server")

    def _run(self, tool: str, *args: str, timeout: float = 60) -> None:
        """Run one of the server's programs, as the unprivileged user when we are root."""
        kwargs: dict[str, object] = {}
        if self._user is not None:
            kwargs = {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "HOME": str(self.root)}
        result = subprocess.run(
            [str(self.bindir / tool), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.root,
            env=env,
            **kwargs,  # type: ignore[arg-type]
        )
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{tool} {' '.join(args)} failed ({result.returncode}): {result.stderr}{result.stdout}\n{log}"
            )

    def start(self) -> None:
        options = f"-k {self.root} -p {self.port} -c listen_addresses='' -c max_connections=40 -c shared_buffers=16MB"
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log), "-o", options)
        self._wait_ready()

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.dsn("postgres"), connect_timeout=2, autocommit=True) as con:
                    if not con.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
                        con.execute(f'CREATE DATABASE "{DATABASE}"')
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self, mode: str = "fast") -> None:
        """``fast`` shuts down cleanly; ``immediate`` kills the server as a crash would (no checkpoint)."""
        self._run("pg_ctl", "stop", "-w", "-t", "60", "-D", str(self.data), "-m", mode)

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def dsn(self, database: str = DATABASE, *, schema: str | None = None) -> str:
        params = {"host": str(self.root), "port": self.port, "user": SUPERUSER, "dbname": database}
        if schema:
            params["options"] = f"-csearch_path={schema}"
        return conninfo.make_conninfo(**params)

    def url(self, database: str = DATABASE, *, schema: str | None = None) -> str:
        from urllib.parse import quote

        query = f"host={quote(str(self.root), safe='')}&port={self.port}"
        if schema:
            query += "&options=" + quote(f"-csearch_path={schema}", safe="")
        return f"postgresql://{SUPERUSER}@/{database}?{query}"

    def cleanup(self) -> None:
        if self.running():
            with suppress(RuntimeError, subprocess.TimeoutExpired):
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def running_server() -> Iterator[PostgresServer]:
    server = PostgresServer(find_bindir())
    try:
        server.start()
        yield server
    finally:
        server.cleanup()
