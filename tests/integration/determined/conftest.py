"""Determined-style scripts (tests/integration/determined/scripts, written with `import
determined as det`) ported by changing only their import lines, then run on a real master and
locally."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent / "scripts"

_IMPORTS = [
    (re.compile(r"^import determined as det$", re.M), "import trainyard.determined as det"),
    (re.compile(r"^from determined import ", re.M), "from trainyard.determined import "),
    (re.compile(r"^import determined\.pytorch", re.M), "import trainyard.determined.pytorch"),
]


def port(text: str) -> str:
    """A Determined script with only its import lines changed."""
    for pattern, replacement in _IMPORTS:
        text = pattern.sub(replacement, text)
    return text


def ported_model_dir(root: Path, *names: str) -> Path:
    """A model dir holding the ported scripts `names` (and nothing else)."""
    model = root / "model"
    if model.exists():
        shutil.rmtree(model)
    model.mkdir(parents=True)
    for name in names:
        original = (SCRIPTS / name).read_text()
        ported = port(original)
        changed = [
            (a, b)
            for a, b in zip(original.splitlines(), ported.splitlines(), strict=True)
            if a != b
        ]
        assert changed and all("import" in a and "determined" in a for a, _ in changed)
        (model / name).write_text(ported)
    return model
