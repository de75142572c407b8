"""The fuzzing run's settings: a fixed seed on CI (reproducible), a fresh one elsewhere (new cases every
run), either replaced by SCHEMATHESIS_SEED; how many cases each operation gets."""

from __future__ import annotations

import os
import secrets

CI_SEED = 20_261_205
EXAMPLES_PER_OPERATION = 100  # 3 operations, with and without a token: up to 600 cases a run


def chosen_seed() -> int:
    given = os.environ.get("SCHEMATHESIS_SEED", "").strip()
    if given.isdigit():
        return int(given)
    return CI_SEED if os.environ.get("CI") else secrets.randbelow(2**32)


SEED = chosen_seed()
