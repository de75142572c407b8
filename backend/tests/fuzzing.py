"""The API fuzzing run's settings. The seed is SCHEMATHESIS_SEED: the tests sessions set it (fixed on CI,
so a red run replays exactly; fresh elsewhere, so every run tries new cases) and a person replays a run
with it; pytest run by hand without it gets a fresh seed. Either way pytest's header prints it."""

from __future__ import annotations

import os
import secrets

EXAMPLES_PER_OPERATION = 100  # 3 operations, with and without a token: up to 600 cases a run


def chosen_seed() -> int:
    given = os.environ.get("SCHEMATHESIS_SEED", "").strip()
    return int(given) if given.isdigit() else secrets.randbelow(2**32)


SEED = chosen_seed()
