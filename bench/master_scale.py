"""Master at scale: one experiment with 10,000 trials and 10M metric points through the REST API.

    .venv/bin/python bench/master_scale.py                    # both DBs, 10,000 trials, 10M points
    .venv/bin/python bench/master_scale.py --points 1000000 --db sqlite     # a quicker run

A point is one metric value (one point on one curve: trial, group, steps, metric name); each
report the bench sends holds 2 values, so points/s = 2 x reports/s. The ingest target compares
points/s.

For each database (SQLite file, PostgreSQL from TRAINYARD_TEST_POSTGRES_URL or --postgres-url):
1. Seeds, straight into the DB, one PAUSED experiment with `--trials` PAUSED trials, one
   (terminated) allocation per trial whose token the "trials" use, and `--val-points` validation
   reports per trial (steps 10, 20, ...; the history the reads run on); nothing is scheduled.
2. Starts a real master (`python -m trainyard.master.server`) on 127.0.0.1.
3. Ingest: `--clients` processes POST `/api/v1/trials/{id}/metrics` as a Core API trial's sender
   does when it reports training metrics every batch and validates every `--batch` batches:
   training POSTs of `--batch` reports (the sender's cap is 500) and each validation report in a
   POST of its own (the sender flushes at each validation), until about `--points` points are
   sent. Bodies are encoded before the clock starts (on a cluster trials encode on their own
   machines). Prints points/s, reports/s, POST latency and the master's CPU time per report
   (steadier than wall-clock rates on a shared box).
4. Reads (after ingest, `--reads` requests each, sequential): list the experiment's trials
   (100 per page, sorted by best metric), one random trial's training metrics (API default
   `max_points` 1000), the experiment's validation metrics (API defaults); p50/p95.
Then the start latency of a 1-slot Core API trial on an idle SQLite master: experiment created
(trial QUEUED) -> the trial's first training report (its own timestamp), `--starts` times.
Targets: >= 50k points/s ingest, p95 < 200 ms, start latency <= 1.5 s. Not a test.
`--profile` runs the master under cProfile (every thread) and prints its costliest calls.

Measured 2026-11-24 (session 3) on the shared 2-core dev box, full size: `--trials 10000 --points
10000000 --clients 4 --reads 20` (SQLite also `--starts 3`), 100 seeded validation reports per
trial, then 5,010,000 reports = 10,020,000 points sent in 20,000 POSTs; latencies p50 / p95 in ms:

| db | points/s (reports/s) | CPU/report | POST ms | list trials | trial metr. | exp. metr. |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
| SQLite (load 1.9) | 51,208 (25,604) | 41.2 us | 37 / 68 | 18 / 22 | 13 / 17 | 88 / 102 |
| PostgreSQL (load 4.3) | 51,037 (25,518) | 25.8 us | 36 / 80 | 24 / 33 | 18 / 29 | 140 / 156 |

(CPU/report: the master's. PostgreSQL 15's server shares the two cores with the master, and ran
with `shared_buffers = 2GB` as `scripts/ensure_postgres.sh` sets it; with Debian's default 128MB,
same code: 47,134 points/s and the experiment-wide read 202 / 241 ms.)
Start latency (queued -> first training report, 1-slot Core API trial): 1.04 / 0.83 / 1.03 s.
Both ingest figures clear the target by ~2%; runs vary by ±5% on this box. Smaller runs
(`--trials 500 --points 1000000 --val-points 20 --starts 0`): SQLite 59,021-63,739 points/s,
PostgreSQL 52,122-59,322.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import shlex
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
from _master_profile import dump_profile, profiled
from master_process import RunningMaster, start_master, stop_master

from trainyard.config import load_experiment_config
from trainyard.master.db import Allocation, Database, Trial
from trainyard.master.db import experiments as experiments_repo
from trainyard.master.db import metrics as metrics_repo
from trainyard.master.db import users as users_repo
from trainyard.master.states import AllocationState, ExperimentState, TrialState

SCALE_CONFIG = """
name: master-scale
entrypoint: python3 train.py
hyperparameters:
  lr: {type: log, minval: -4, maxval: -1}
searcher:
  name: random
  metric: val_loss
  smaller_is_better: true
  max_trials: 10000
  max_length: {batches: 100000}
"""

START_CONFIG = """
name: start-latency
entrypoint: python3 train.py
searcher: {name: single, metric: val_loss, max_length: {batches: 1}}
resources: {slots_per_trial: 1}
max_restarts: 0
"""

START_SCRIPT = """
import trainyard.core as core

with core.init() as ctx:
    for op in ctx.searcher.operations():
        ctx.train.report_training_metrics(1, {"loss": 1.0})
        ctx.train.report_validation_metrics(1, {"val_loss": 1.0})
        op.report_completed(1.0)
"""


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p95) in milliseconds of samples in seconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def seed(url: str, n_trials: int, val_points: int = 0) -> tuple[int, list[tuple[int, str]]]:
    """One paused experiment with `n_trials` paused trials, each with an allocation token and
    `val_points` validation reports (steps 10, 20, ...: the history the reads are measured on).

    Bulk inserts (setup, not measured); rows look like what the runtime writes.
    """
    config = load_experiment_config(SCALE_CONFIG)
    db = Database(url)
    db.migrate()
    now = time.time()
    tokens = [users_repo.new_token() for _ in range(n_trials)]
    with db.session() as session:
        experiment = experiments_repo.create_experiment(
            session,
            name=config.name,
            config=config.model_dump(mode="json"),
            config_yaml=SCALE_CONFIG,
            searcher_metric=config.searcher.metric,
            smaller_is_better=config.searcher.smaller_is_better,
            model_definition=b"",
            state=ExperimentState.PAUSED,
        )
        experiment_id = experiment.id
        trial_rows = [
            {"experiment_id": experiment_id, "request_id": i, "state": TrialState.PAUSED.value,
             "hparams": {"lr": 10 ** random.uniform(-4, -1)}, "seed": i, "restarts": 0,
             "run_count": 1, "completed_length": 0, "closed": False, "stop_requested": False,
             "total_batches": 0, "created_at": now}
            for i in range(n_trials)
        ]  # fmt: skip
        session.execute(insert(Trial), trial_rows)
        ids = list(
            session.scalars(
                select(Trial.id).where(Trial.experiment_id == experiment_id).order_by(Trial.id)
            )
        )
        allocation_rows = [
            {"id": str(uuid.uuid4()), "trial_id": tid, "token_hash": users_repo.hash_token(tok),
             "state": AllocationState.TERMINATED.value, "resource_pool": "default", "slots": 1,
             "slot_ids": [], "pids": [], "created_at": now, "ended_at": now, "exit_code": 0}
            for tid, tok in zip(ids, tokens, strict=True)
        ]  # fmt: skip
        session.execute(insert(Allocation), allocation_rows)
    rng = random.Random(0)
    for chunk in range(0, len(ids), 1000):
        with db.session() as session:
            for tid in ids[chunk : chunk + 1000]:
                history = [
                    {"steps": 10 * k, "metrics": {"val_loss": 1 / k + rng.random() / 10,
                     "accuracy": rng.random()}, "timestamp": now}
                    for k in range(1, val_points + 1)
                ]  # fmt: skip
                metrics_repo.add_metrics(session, tid, "validation", history)
    db.dispose()
    return experiment_id, list(zip(ids, tokens, strict=True))


VALUES_PER_REPORT = 2  # each report holds two metric values ("loss"/"lr", "val_loss"/"accuracy")
_VARIANTS = 4  # distinct bodies per batch position (random values), reused across trials


def trial_bodies(per_trial: int, batch: int, rng: random.Random) -> list[tuple[str, int, bytes]]:
    """The POSTs of one trial as `(group, reports, JSON body)`, in sending order.

    The shape a Core API trial sends when it reports training metrics every batch and validates
    every `batch` batches: its sender posts full training batches (`MetricsSender` sends at most
    500 reports per POST) and flushes each validation report alone (`report_validation_metrics`
    delivers before returning).
    """
    posts = []
    for start in range(0, per_trial, batch):
        end = min(start + batch, per_trial)
        training = [
            {"steps": k, "metrics": {"loss": rng.random(), "lr": 0.01}, "timestamp": time.time()}
            for k in range(start + 1, end + 1)
        ]
        validation = [
            {"steps": end, "metrics": {"val_loss": rng.random(), "accuracy": rng.random()},
             "timestamp": time.time()}
        ]  # fmt: skip
        for group, reports in (("training", training), ("validation", validation)):
            body = json.dumps({"group": group, "reports": reports}).encode()
            posts.append((group, len(reports), body))
    return posts


def reports_per_trial(per_trial: int, batch: int) -> int:
    """Training reports plus one validation report per training POST."""
    return per_trial + -(-per_trial // batch)


def _client_worker(
    args: tuple[str, list[tuple[int, str]], int, int, int],
) -> tuple[list[float], float, float]:
    """One client process: send every trial's POSTs; returns each POST's latency and the
    wall-clock start and end of its sending.

    Bodies are encoded before the clock starts (a few variants, reused across trials: the trial
    is in the URL): on a cluster the trials encode on their own machines, and on this small box
    the clients' JSON encoding would otherwise take CPU from the master being measured.
    """
    url, trials, per_trial, batch, worker = args
    rng = random.Random(worker)
    variants = [trial_bodies(per_trial, batch, rng) for _ in range(_VARIANTS)]
    latencies: list[float] = []
    address = httpx.URL(url)
    # The stdlib client: httpx cost these processes ~5x its CPU per POST, taken from the master
    # under test on this 2-core box (on a cluster the trials send from their own machines).
    conn = http.client.HTTPConnection(address.host, address.port, timeout=120.0)
    started = time.time()
    for i, (trial_id, token) in enumerate(trials):
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        for _group, _n, body in variants[i % _VARIANTS]:
            began = time.perf_counter()
            conn.request("POST", f"/api/v1/trials/{trial_id}/metrics", body, headers)
            reply = conn.getresponse()
            answer = reply.read()
            latencies.append(time.perf_counter() - began)
            if reply.status >= 300:
                raise RuntimeError(f"POST metrics: {reply.status} {answer[:200]!r}")
    conn.close()
    return latencies, started, time.time()


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ingest(
    url: str, trials: list[tuple[int, str]], points: int, clients: int, batch: int
) -> dict[str, float]:
    """Send about `points` metric values; rates count reports and values (points) stored."""
    per_trial = max(1, points // (len(trials) * VALUES_PER_REPORT))
    slices = [trials[i::clients] for i in range(clients)]
    jobs = [(url, part, per_trial, batch, i) for i, part in enumerate(slices)]
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        results = pool.map(_client_worker, jobs)
    latencies = [x for part, _, _ in results for x in part]
    wall = max(end for _, _, end in results) - min(start for _, start, _ in results)
    reports = reports_per_trial(per_trial, batch) * len(trials)
    p50, p95 = percentiles(latencies)
    return {"reports": reports, "values": reports * VALUES_PER_REPORT, "seconds": wall,
            "reports_rate": reports / wall, "values_rate": reports * VALUES_PER_REPORT / wall,
            "post_p50": p50, "post_p95": p95, "posts": len(latencies)}  # fmt: skip


def measure_reads(
    master: RunningMaster, experiment_id: int, trial_ids: list[int], n: int
) -> dict[str, tuple[float, float]]:
    experiment = f"/api/v1/experiments/{experiment_id}"
    routes = {
        "list trials": lambda: f"{experiment}/trials?limit=100&sort=best_metric",
        "trial metrics": lambda: f"/api/v1/trials/{random.choice(trial_ids)}/metrics",
        "experiment metrics": lambda: f"{experiment}/metrics",
    }
    out: dict[str, tuple[float, float]] = {}
    headers = {"Authorization": f"Bearer {master.token}"}
    with httpx.Client(base_url=master.url, headers=headers, timeout=120.0) as http:
        for name, path in routes.items():
            samples = []
            for i in range(n + 2):
                began = time.perf_counter()
                http.get(path()).raise_for_status()
                if i >= 2:  # two warm-up requests
                    samples.append(time.perf_counter() - began)
            out[name] = percentiles(samples)
    return out


def fresh_postgres(base_url: str) -> tuple[str, Any]:
    """A new, empty database next to `base_url`'s; returns (url, drop callback)."""
    name = f"trainyard_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    url = base_url.rsplit("/", 1)[0] + f"/{name}"

    def drop() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()

    return url, drop


def run_backend(backend: str, args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"master_scale_{backend}_"))
    drop = None
    if backend == "sqlite":
        url = f"sqlite:///{work / 'trainyard.db'}"
    else:
        url, drop = fresh_postgres(args.postgres_url)
    try:
        began = time.perf_counter()
        experiment_id, trials = seed(url, args.trials, args.val_points)
        print(f"[{backend}] seeded {len(trials)} trials in {time.perf_counter() - began:.1f} s")
        profile_out = work / "master.prof"
        saved_env = dict(os.environ)
        if args.profile:
            os.environ.update(profiled(work, profile_out))
        try:
            master = start_master(work / "master", db_url=url, slots=1)
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
        try:
            cpu_before = process_cpu_s(master.process.pid)
            result = ingest(master.url, trials, args.points, args.clients, args.batch)
            master_cpu = process_cpu_s(master.process.pid) - cpu_before
            print(
                f"[{backend}] ingest: {result['reports']:,} reports = {result['values']:,} "
                f"points (metric values) in {result['seconds']:.1f} s: "
                f"{result['values_rate']:,.0f} points/s (target >= 50,000 points/s), "
                f"{result['reports_rate']:,.0f} reports/s; POST p50 {result['post_p50']:.0f} ms, "
                f"p95 {result['post_p95']:.0f} ms ({result['posts']:,} POSTs: training batches "
                f"of {args.batch} reports, validation reports one per POST)"
            )
            print(
                f"[{backend}] master CPU during ingest: {master_cpu:.1f} s = "
                f"{master_cpu / result['reports'] * 1e6:.1f} us per report "
                f"(load average {os.getloadavg()[0]:.1f})"
            )
            reads = measure_reads(master, experiment_id, [t for t, _ in trials], args.reads)
            for name, (p50, p95) in reads.items():
                print(f"[{backend}] {name}: p50 {p50:.0f} ms, p95 {p95:.0f} ms")
            if args.profile:
                dump_profile(master, profile_out)
        finally:
            stop_master(master)
    finally:
        if drop is not None:
            drop()


def start_latency(args: argparse.Namespace) -> None:
    from trainyard.client import Client

    work = Path(tempfile.mkdtemp(prefix="master_scale_start_"))
    model_dir = work / "model"
    model_dir.mkdir()
    (model_dir / "train.py").write_text(START_SCRIPT)
    master = start_master(work / "master", slots=1)
    samples: list[float] = []
    try:
        client = Client(master.url, master.token)
        for _ in range(args.starts):
            submitted = time.time()
            experiment = client.create_experiment(config_text=START_CONFIG, model_dir=model_dir)
            first = None
            deadline = time.monotonic() + 120
            while first is None and time.monotonic() < deadline:
                page = client.list_trials(experiment.id)
                for trial in page.items:
                    points = client.trial_metrics(trial.id, group="training")
                    if points:
                        first = points[0].timestamp
                time.sleep(0.05)
            if first is None:
                print(f"[start] experiment {experiment.id}: no training report within 120 s")
                continue
            samples.append(first - submitted)
            while client.get_experiment(experiment.id).state not in ("COMPLETED", "ERRORED"):
                time.sleep(0.1)
    finally:
        stop_master(master)
    if samples:
        shown = ", ".join(f"{s:.2f}" for s in samples)
        print(f"[start] queued -> first batch of a 1-slot trial: median "
              f"{statistics.median(samples):.2f} s ({shown})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--points", type=int, default=10_000_000, help="metric values to send (2 per report)"
    )
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--batch",
        type=int,
        default=500,
        help="training reports per POST (a trial's sender sends at most 500)",
    )
    parser.add_argument(
        "--val-points",
        type=int,
        default=100,
        help="validation reports per trial seeded before ingest (the reads' history)",
    )
    parser.add_argument("--reads", type=int, default=40, help="requests per read route")
    parser.add_argument("--starts", type=int, default=5, help="start-latency samples (0: skip)")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "TRAINYARD_TEST_POSTGRES_URL",
            "postgresql+psycopg://trainyard:trainyard@127.0.0.1:5432/trainyard_test",
        ),
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the master; print its costliest calls"
    )
    args = parser.parse_args()
    print("command:", shlex.join([sys.executable, *sys.argv]))
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    for backend in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
        run_backend(backend, args)
    if args.starts:
        start_latency(args)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
