"""`Database`: the engine, one-transaction units of work, and schema migrations.

    db = Database("sqlite:////tmp/t.db")    # or "postgresql+psycopg://user:pw@host/db"
    db.migrate()                            # upgrade to this code's head (refuses a newer schema)
    with db.session() as session:           # one unit of work = one transaction
        experiments.create_experiment(session, ...)
    # committed here; an exception inside the block rolls everything back

SQLite runs in WAL mode with foreign keys on and a 30 s busy timeout. Write units of work take the
write lock at BEGIN (`BEGIN IMMEDIATE`), so two writers queue instead of failing half-way;
`session(read_only=True)` uses a plain deferred BEGIN that never blocks writers. Write units of
work of one `Database` object on SQLite also queue on an in-process lock (no busy-wait sleeps)
and reuse one connection, whose page cache stays warm. PostgreSQL pools 10 (+20) connections and
pings one before use only if it sat idle over `PING_AFTER_IDLE_SECONDS`.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from trainyard.errors import TrainyardError

__all__ = ["Database", "dumps_json", "ensure_private_dir", "normalize_db_url"]

_BUSY_TIMEOUT_MS = 30_000
_MMAP_BYTES = 1 << 30
_CACHE_KIB = 64 * 1024
_WRITER_CACHE_KIB = 512 * 1024
_NON_FINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


def _encode_non_finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else _NON_FINITE[value]
    if isinstance(value, dict):
        return {k: _encode_non_finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode_non_finite(v) for v in value]
    return value


# One shared encoder: json.dumps with non-default options builds a new encoder per call.
_ENCODER = json.JSONEncoder(allow_nan=False, separators=(",", ":"))


def dumps_json(value: Any) -> str:
    """Serialize for a JSON column: non-finite floats become "NaN"/"Infinity"/"-Infinity"."""
    try:
        return _ENCODER.encode(value)
    except ValueError:
        return _ENCODER.encode(_encode_non_finite(value))


def normalize_db_url(url: str) -> str:
    """Expand `~` in SQLite paths and pick psycopg (v3) for a bare `postgresql://` URL."""
    from trainyard.master.settings import expand_db_url

    url = expand_db_url(url)
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


PING_AFTER_IDLE_SECONDS = 5.0


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) readable by its owner only, and take group and other
    permissions away from it if it exists. For directories that hold secrets (a master's data
    dir: its DB, admin token, checkpoints)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def _private_sqlite_files(path: Path) -> None:
    """The DB file (password hashes, token digests) and its -wal/-shm readable by the owner only.

    SQLite creates -wal/-shm with the DB file's permissions, so creating the file 0600 first is
    enough for a new database; an existing one that others could read is tightened.
    """
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    for name in (path.name, path.name + "-wal", path.name + "-shm"):
        try:
            if (path.with_name(name).stat().st_mode & 0o077) != 0:
                path.with_name(name).chmod(0o600)
        except FileNotFoundError:
            continue


def _in_memory(database: str | None) -> bool:
    return database in (None, "", ":memory:")


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """`pool_pre_ping` for connections idle more than `idle_seconds`, not on every checkout.

    A ping is a round trip that cost the metrics ingest ~5% of its time when made on every
    checkout; a connection used moments ago is alive unless the server restarted in between,
    and then its first statement fails, which makes SQLAlchemy recycle the whole pool. A failed
    ping (`DisconnectionError`) makes the pool replace the connection before handing it out.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        since = record.info.get("idle_since")
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            cursor = dbapi_conn.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            dbapi_conn.rollback()
        except Exception as err:
            raise DisconnectionError(f"stale pooled connection: {err}") from err


class Database:
    """The master's database. Thread-safe: share one instance per process.

    `session()` is the only way code should touch the DB; repository functions take the session
    and never commit. Call `migrate()` once at start-up before any session.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalize_db_url(url)
        try:
            parsed = make_url(self.url)
        except Exception:
            raise TrainyardError(
                f"database URL {url!r} is not valid; use sqlite:///PATH or "
                "postgresql+psycopg://USER:PASSWORD@HOST/DB"
            ) from None
        self.dialect: str = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise TrainyardError(f"database URL {url!r}: only sqlite and postgresql are supported")
        self._migrate_lock = threading.Lock()
        # SQLite has one writer at a time; a writer that finds the lock taken sleeps in SQLite's
        # busy handler (1 ms .. 100 ms steps) and wakes late. Writers of this object queue on a
        # Python lock instead, so each starts the moment the previous one commits.
        self._write_gate: threading.RLock | None = (
            threading.RLock() if self.dialect == "sqlite" else None
        )
        if self.dialect == "sqlite":
            self.engine = self._sqlite_engine(parsed.database, echo, cache_kib=_CACHE_KIB)
            # Writers (one at a time, behind the gate) reuse one connection: SQLite drops a
            # connection's whole page cache when another connection wrote since its last
            # transaction, so writes spread over a pool ran on cold caches.
            write_engine = (
                self.engine
                if _in_memory(parsed.database)
                else self._sqlite_engine(
                    parsed.database, echo, cache_kib=_WRITER_CACHE_KIB, pool_size=1
                )
            )
        else:
            self.engine = create_engine(
                self.url, echo=echo, pool_size=10, max_overflow=20, json_serializer=dumps_json
            )
            _ping_when_idle(self.engine, PING_AFTER_IDLE_SECONDS)
            write_engine = self.engine
        self._write_engine = write_engine
        self._write = sessionmaker(
            bind=write_engine.execution_options(sqlite_begin="IMMEDIATE"), expire_on_commit=False
        )
        self._read = sessionmaker(bind=self.engine, expire_on_commit=False)

    def _sqlite_engine(
        self, database: str | None, echo: bool, *, cache_kib: int, pool_size: int | None = None
    ) -> Engine:
        in_memory = _in_memory(database)
        if not in_memory:
            assert database is not None  # narrowed by in_memory
            _private_sqlite_files(Path(database))
        pooling: dict[str, Any] = {"poolclass": StaticPool} if in_memory else {}
        if pool_size is not None and not in_memory:
            pooling = {"pool_size": pool_size, "max_overflow": 4}
        engine = create_engine(
            self.url,
            echo=echo,
            json_serializer=dumps_json,
            connect_args={"check_same_thread": False, "timeout": _BUSY_TIMEOUT_MS / 1000},
            **pooling,
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
            # Autocommit at the driver level; transactions are begun explicitly below so that
            # SQLite's BEGIN mode is ours to choose (pysqlite's implicit BEGIN is DEFERRED only).
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            # NORMAL is durable across process crashes (kill -9) in WAL mode; only a power loss
            # can drop the last commits.
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Reads over a big metrics table hop between pages; memory-map the file (shared with
            # the OS page cache) and give each connection a larger private cache.
            cursor.execute(f"PRAGMA mmap_size={_MMAP_BYTES}")
            cursor.execute(f"PRAGMA cache_size=-{cache_kib}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine

    @contextmanager
    def session(self, *, read_only: bool = False) -> Iterator[Session]:
        """One unit of work: commits when the block ends, rolls back if it raises.

        Objects loaded in it stay readable after the block (no expiry on commit), but lazy
        relationship loads are not available once it has ended.
        """
        if read_only:
            with self._read.begin() as session:
                yield session
        elif self._write_gate is None:
            with self._write.begin() as session:
                yield session
        else:
            with self._write_gate, self._write.begin() as session:
                yield session

    def migrate(self) -> str:
        """Upgrade the schema to this code's head and return the head revision.

        Raises `TrainyardError` when the database was written by a newer Trainyard.
        """
        from trainyard.master.db.schema import upgrade_to_head

        if self.dialect != "sqlite":
            with self._migrate_lock, self.engine.begin() as conn:
                return upgrade_to_head(conn, self.url)
        with self._migrate_lock, self.engine.connect() as conn:
            # SQLite rebuilds tables to alter them; dropping a parent table with foreign keys on
            # would cascade-delete its children. The pragma only takes effect outside a
            # transaction; keys are checked before the migration commits.
            raw = conn.connection.driver_connection
            assert raw is not None  # a live pooled connection
            raw.execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    head = upgrade_to_head(conn, self.url)
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").first()
                    if broken is not None:
                        raise TrainyardError(
                            f"migration left a broken foreign key in table {broken[0]}; "
                            "the database was not changed"
                        )
                return head
            finally:
                raw.execute("PRAGMA foreign_keys=ON")

    def current_revision(self) -> str | None:
        """The schema revision stored in the database, None for an empty database."""
        from trainyard.master.db.schema import current_revision

        with self.engine.connect() as conn:
            return current_revision(conn)

    def dispose(self) -> None:
        """Close every pooled connection (call on shutdown; the object is unusable after)."""
        if self._write_engine is not self.engine:
            self._write_engine.dispose()
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({make_url(self.url).render_as_string(hide_password=True)!r})"
