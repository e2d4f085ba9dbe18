"""Numbered log lines (the launcher's `seq`) are stored once per allocation, however often sent."""

from __future__ import annotations

import pytest
from conftest import make_experiment, make_trials

from trainyard.errors import TrainyardError
from trainyard.master.db import Database
from trainyard.master.db import allocations as allocations_repo
from trainyard.master.db import logs as logs_repo


def _line(seq: int | None, text: str) -> dict[str, object]:
    return {"line": text, "timestamp": 1.0, "seq": seq}


def test_a_resent_numbered_line_is_stored_once_and_others_are_kept(db: Database) -> None:
    experiment = make_experiment(db)
    (trial,) = make_trials(db, experiment.id, 1)
    with db.session() as session:
        first, _ = allocations_repo.create_allocation(session, trial.id)
        second, _ = allocations_repo.create_allocation(session, trial.id)
    with db.session() as session:
        added = logs_repo.add_logs(
            session, trial.id, [_line(0, "a"), _line(1, "b")], allocation_id=first.id
        )
        assert added == 2
    with db.session() as session:
        # A batch resent after a timeout, and the spool replayed after a restart, overlap.
        lines = [_line(1, "b"), _line(2, "c"), _line(None, "unnumbered")]
        assert logs_repo.add_logs(session, trial.id, lines, allocation_id=first.id) == 2
        # The same numbers in another allocation are other lines.
        assert logs_repo.add_logs(session, trial.id, [_line(0, "z")], allocation_id=second.id) == 1
        assert logs_repo.add_logs(session, trial.id, [_line(None, "unnumbered")]) == 1
    with db.session(read_only=True) as session:
        stored = [row.line for row in logs_repo.trial_logs(session, trial.id)]
    assert stored == ["a", "b", "c", "unnumbered", "z", "unnumbered"]


def test_a_bad_seq_is_refused_with_one_line(db: Database) -> None:
    experiment = make_experiment(db)
    (trial,) = make_trials(db, experiment.id, 1)
    bad_seq = pytest.raises(TrainyardError, match="seq is -1; it must be an integer >= 0")
    with bad_seq, db.session() as session:
        logs_repo.add_logs(session, trial.id, [_line(-1, "x")], allocation_id="a")
    no_allocation = pytest.raises(TrainyardError, match="needs its allocation id")
    with no_allocation, db.session() as session:
        logs_repo.add_logs(session, trial.id, [_line(0, "x")])
