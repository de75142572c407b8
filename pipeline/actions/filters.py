"""GitHub's filter patterns (`branches`, `tags`, `paths`), as its filter pattern cheat sheet gives them.

`*` matches within a path segment, `**` across segments (`**/` also none: `**/README.md` matches
`README.md`), `?` and `+` zero or one and one or more of the preceding character, `[...]` one
listed character, a backslash escapes; a leading `!` leaves out what earlier patterns took in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache


@lru_cache(maxsize=256)
def _pattern(glob: str) -> re.Pattern[str]:
    regex = ""
    for part in re.split(r"(\*\*/|\*\*|\*|\?|\+|\\.|\[[^\]]*\])", glob):
        if part == "**/":
            regex += "(?:.*/)?"
        elif part == "**":
            regex += ".*"
        elif part == "*":
            regex += "[^/]*"
        elif part in ("?", "+"):  # of the preceding character; a literal one with nothing before it
            regex += part if regex and not regex.endswith(("*", "?", "+", "(")) else re.escape(part)
        elif part.startswith("\\") and len(part) == 2:
            regex += re.escape(part[1])
        elif part.startswith("[") and part.endswith("]") and len(part) > 2:
            regex += part
        else:
            regex += re.escape(part)
    return re.compile(f"^{regex}$")


def matches(name: str, patterns: Sequence[str]) -> bool:
    """Whether a branch, tag or path `name` passes the filter: the last matching pattern decides, `!pattern`
    excludes."""
    included = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        if _pattern(pattern[1:] if negated else pattern).match(name):
            included = not negated
    return included
