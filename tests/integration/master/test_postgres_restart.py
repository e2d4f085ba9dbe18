"""PostgreSQL restarted under load: the master reconnects and every metric point is stored once.

The test runs its own PostgreSQL server (initdb into a temporary directory, its own port), so
restarting it disturbs no other test. A real master ingests a trial's metrics while the server
is restarted with `pg_ctl restart -m fast` (every connection is cut); the trial and the master
ride it out (the API answers 503 while the database is unreachable; trials retry those).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from master_runner import RealMaster, experiment_yaml, wait_for, write_experiment
from sqlalchemy import func, select

from trainyard.master.db import Metric, Trial

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

STEPS = 60
PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


def _as_postgres(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", *cmd], capture_output=True, text=True, check=False
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def private_postgres() -> Iterator[tuple[str, Path, int]]:
    """(URL, data dir, port) of a PostgreSQL server of this test's own."""
    if not PG_BIN or shutil.which("runuser") is None:
        pytest.skip("no PostgreSQL server binaries (scripts/ensure_postgres.sh installs them)")
    bin_dir = PG_BIN[-1]
    root = Path(tempfile.mkdtemp(prefix="trainyard-pg-"))
    shutil.chown(root, "postgres", "postgres")
    data, port = root / "data", _free_port()
    done = _as_postgres(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "trainyard")
    if done.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"initdb failed: {done.stderr.strip()[:200]}")
    ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l", str(root / "log")]
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    started = _as_postgres(*ctl, "-o", opts, "start")
    assert started.returncode == 0, started.stderr
    try:
        yield f"postgresql+psycopg://trainyard@127.0.0.1:{port}/postgres", data, port
    finally:
        _as_postgres(*ctl, "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def test_a_postgres_restart_under_ingest_loses_and_doubles_nothing(
    private_postgres: tuple[str, Path, int], tmp_path: Path
) -> None:
    url, data, port = private_postgres
    master = RealMaster(tmp_path / "master", slots=1, db_url=url).start()
    try:
        searcher = {"name": "single", "max_length": {"batches": STEPS}}
        config, model_dir = write_experiment(tmp_path, experiment_yaml(searcher, {"sleep": 0.1}))
        with master.client() as client:
            exp = client.create_experiment(config, model_dir)

        def stored_steps() -> int:
            db = master.db()
            try:
                with db.session(read_only=True) as session:
                    count = select(func.count()).select_from(Metric)
                    return int(session.scalar(count.where(Metric.group == "training")) or 0)
            finally:
                db.dispose()

        wait_for("ingest to be under way", lambda: stored_steps() >= 10, 90, master)
        bin_dir = PG_BIN[-1]
        opts = f"-p {port} -k {data.parent} -c listen_addresses=127.0.0.1"
        ctl = [str(bin_dir / "pg_ctl"), "-D", str(data), "-w", "-l", str(data.parent / "log")]
        restarted = _as_postgres(*ctl, "-m", "fast", "-o", opts, "restart")
        assert restarted.returncode == 0, restarted.stderr
        assert stored_steps() < STEPS, "the trial finished before the restart"
        with master.client() as client:
            final = client.wait_experiment(exp.id, interval=0.2, timeout=180)
        assert final.state == "COMPLETED", master.log()
        db = master.db()
        try:
            with db.session(read_only=True) as session:
                (trial,) = session.scalars(select(Trial)).all()
                steps = list(
                    session.scalars(
                        select(Metric.steps)
                        .where(Metric.trial_id == trial.id, Metric.group == "training")
                        .order_by(Metric.steps)
                    )
                )
        finally:
            db.dispose()
        assert steps == list(range(1, STEPS + 1))
        assert trial.restarts == 0, master.log()
    finally:
        master.stop()
