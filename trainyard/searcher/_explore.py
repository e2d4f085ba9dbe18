"""PBT's explore step: a child's hyperparameters from its parent's.

Each non-constant hyperparameter is resampled from the space with probability
`resample_probability`; otherwise a numeric one is multiplied by `1 + perturb_factor` or
`1 - perturb_factor` (sign drawn with equal odds) and clamped into its range, ints rounded. A log
hyperparameter is perturbed in value space (a learning rate of 1e-3 becomes 1.2e-3 or 0.8e-3) and
clamped to `[base**minval, base**maxval]`. Categorical values are either resampled or kept;
constants are always kept. Draws happen in the space's order, so a replay is exact.

With a learning `sampler` (`sampler.learns`), the resampled values come from one configuration
the sampler proposes (drawn first, before the per-hyperparameter coin flips), so resampling follows
the model; with the uniform sampler (or none) the draws are exactly Determined's.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np

from trainyard.searcher._sampler import HParamSampler
from trainyard.searcher._space import HParamSpace


def explore(
    space: HParamSpace,
    parent: Mapping[str, Any],
    rng: np.random.Generator,
    *,
    resample_probability: float,
    perturb_factor: float,
    sampler: HParamSampler | None = None,
) -> dict[str, Any]:
    """The child's hyperparameters; `parent` is not modified."""
    old = space.flat(parent)
    proposal = space.flat(sampler.sample(space, rng)) if sampler and sampler.learns else None
    new: dict[tuple[str, ...], Any] = {}
    for p in space.params:
        value = old[p.keys]
        if p.type == "const":
            new[p.keys] = copy.deepcopy(value)
        elif rng.random() < resample_probability:
            new[p.keys] = p.sample(rng) if proposal is None else proposal[p.keys]
        elif p.type == "categorical":
            new[p.keys] = copy.deepcopy(value)
        else:
            factor = 1.0 + perturb_factor if rng.random() < 0.5 else 1.0 - perturb_factor
            new[p.keys] = p.clamp(float(value) * factor)
    return space.build(new)
