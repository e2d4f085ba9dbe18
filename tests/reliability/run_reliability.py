"""`make reliability`: run the reliability suite, print its results table, write it into
docs/reliability.md.

Runs, with one seed (`RELIABILITY_SEED`, else a fresh one, printed first):
1. `pytest tests/reliability` — the fault-injection campaigns, fast and full;
2. `pytest -m reliability tests --ignore=tests/reliability` — the other long `reliability` runs
   (API fuzzing, …) wherever they live.
Then prints one table (each test: outcome, time, faults injected and survived, failed checks)
and replaces the block between the `results` markers of docs/reliability.md with it. Exits
non-zero when any test failed.

    . scripts/test_env.sh && .venv/bin/python tests/reliability/run_reliability.py
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reliability.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"


@dataclass
class Row:
    test: str
    outcome: str
    seconds: float
    campaign: dict[str, Any] | None = None
    message: list[str] = field(default_factory=list)


def run_pytest(args: list[str], junit: Path, env: dict[str, str]) -> int:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE"]
    cmd += [f"--junitxml={junit}", *args]
    print("$ " + " ".join(cmd[2:]), flush=True)
    return subprocess.call(cmd, cwd=ROOT, env=env)


def read_junit(junit: Path) -> list[Row]:
    if not junit.exists():
        return []
    rows = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        outcome = "passed"
        for tag in ("failure", "error", "skipped"):
            found = case.find(tag)
            if found is not None:
                outcome = {"failure": "FAILED", "error": "ERROR", "skipped": "skipped"}[tag]
                text = (found.get("message") or "").splitlines()
                rows_msg = [line for line in text if line.strip()][:3]
                break
        else:
            rows_msg = []
        name = f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}"
        rows.append(Row(name, outcome, float(case.get("time") or 0.0), message=rows_msg))
    return rows


def attach_campaigns(rows: list[Row], results: Path) -> None:
    campaigns = [json.loads(p.read_text()) for p in sorted(results.glob("*.json"))]
    for row in rows:
        for record in campaigns:
            if record["test"].split("::")[-1] == row.test.split("::")[-1]:
                row.campaign = record


def table(rows: list[Row], seed: int, seconds: float, commit: str) -> str:
    lines = [
        f"Seed {seed} (replay: `RELIABILITY_SEED={seed} make reliability`), commit {commit}, "
        f"{len(rows)} tests in {seconds / 60:.1f} min, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "| test | result | time (s) | backend | trial kills (mid-ckpt) | master kills "
        "(mid-ckpt) | faults injected | faults survived | rounds | failed checks |",
        "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    totals = [0, 0, 0, 0]
    for row in rows:
        c = row.campaign
        if c is None:
            cells = ["", "", "", "", "", "", ", ".join(row.message)[:120]]
        else:
            d = c["delivered"]
            trial = d["trial"] + d["trial_mid_checkpoint"]
            master = d["master"] + d["master_mid_checkpoint"]
            failed = sorted({name for r in c["rounds"] for name in r["failed_checks"]})
            totals = [
                totals[0] + trial,
                totals[1] + master,
                totals[2] + c["injected"],
                totals[3] + c["survived"],
            ]
            cells = [
                c["backend"],
                f"{trial} ({d['trial_mid_checkpoint']})",
                f"{master} ({d['master_mid_checkpoint']})",
                str(c["injected"]),
                str(c["survived"]),
                str(len(c["rounds"])),
                ", ".join(failed) or "none",
            ]
        name = row.test.removeprefix("tests/")
        lines.append(
            f"| `{name}` | {row.outcome} | {row.seconds:.0f} | " + " | ".join(cells) + " |"
        )
    passed = sum(r.outcome == "passed" for r in rows)
    broken = sum(r.outcome in ("FAILED", "ERROR") for r in rows)
    skipped = sum(r.outcome == "skipped" for r in rows)
    lines += [
        f"| **total** | {passed} passed, {broken} failed, {skipped} skipped | {seconds:.0f} | "
        f"| {totals[0]} | {totals[1]} | {totals[2]} | {totals[3]} | | |",
    ]
    return "\n".join(lines)


def write_doc(text: str) -> None:
    doc = DOC.read_text()
    if START not in doc or END not in doc:
        raise SystemExit(f"{DOC} lacks the {START} / {END} markers")
    head, rest = doc.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{START}\n{text}\n{END}{tail}")


def main() -> int:
    seed = int(os.environ.get("RELIABILITY_SEED") or secrets.randbelow(10**9))
    print(f"RELIABILITY_SEED={seed}", flush=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="reliability-") as tmp:
        out = Path(tmp)
        env = {**os.environ, "RELIABILITY_SEED": str(seed), "RELIABILITY_RESULTS_DIR": tmp}
        codes = [
            # -s: each fault and round is printed as it happens (a long run shows its progress).
            run_pytest(["-s", "tests/reliability"], out / "faults.xml", env),
            run_pytest(
                ["-m", "reliability", "tests", "--ignore=tests/reliability"],
                out / "others.xml",
                env,
            ),
        ]
        rows = read_junit(out / "faults.xml") + read_junit(out / "others.xml")
        attach_campaigns(rows, out)
    seconds = time.monotonic() - started
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    text = table(rows, seed, seconds, commit or "?")
    print("\n" + text, flush=True)
    write_doc(text)
    print(f"\nwritten to {DOC.relative_to(ROOT)}", flush=True)
    # pytest exit 5: no test matched (no other `reliability` tests exist yet).
    return 0 if all(code in (0, 5) for code in codes) else 1


if __name__ == "__main__":
    sys.exit(main())
