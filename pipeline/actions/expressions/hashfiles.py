"""`hashFiles(patterns...)` as the runner computes it, with `@actions/glob` pattern semantics.

Each pattern is relative to the workspace (a leading `/` means the workspace root, as GitHub's documentation
uses it); `*` and `?` stay within one path segment, `**` spans any number of segments, dot files match,
`!` negates, `#` starts a comment, and a pattern matching a directory matches every file below it. Later
patterns override earlier ones. The result is the SHA-256 over the SHA-256 digests of the matched files,
taken in sorted path order, or '' when nothing matches.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import takewhile
from pathlib import Path

from .errors import ExpressionError

_GLOB_CHARACTERS = frozenset("*?[\\")


@dataclass(frozen=True)
class Pattern:
    negate: bool
    regex: re.Pattern[str]
    root: str = ""  # the literal leading segments: only this part of the workspace can match


@lru_cache(maxsize=256)
def _segment_regex(segment: str) -> str:
    parts: list[str] = []
    index = 0
    while index < len(segment):
        char = segment[index]
        if char == "*":
            parts.append("[^/]*")
        elif char == "?":
            parts.append("[^/]")
        elif char == "[" and (close := segment.find("]", index + 2)) > 0:
            body = segment[index + 1 : close]
            negated = body[0] in "!^"
            body = body[1:] if negated else body
            parts.append("[" + ("^" if negated else "") + body.replace("\\", "\\\\").replace("[", "\\[") + "]")
            index = close
        elif char == "\\" and index + 1 < len(segment):
            index += 1
            parts.append(re.escape(segment[index]))
        else:
            parts.append(re.escape(char))
        index += 1
    return "".join(parts)


def compile_pattern(line: str) -> Pattern | None:
    """One line of a pattern list; None for blank and comment lines."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    negate = False
    while text.startswith("!"):
        negate = not negate
        text = text[1:]
    directory_only = text.endswith("/")
    segments: list[str] = []
    for segment in text.split("/"):
        if segment not in {"", "."} and not (segment == "**" and segments[-1:] == ["**"]):
            segments.append(segment)
    if not segments:
        return Pattern(negate, re.compile(".+", re.DOTALL))
    literal = list(takewhile(lambda segment: not _GLOB_CHARACTERS.intersection(segment), segments))
    root = "" if ".." in literal else "/".join(literal)
    regex = ""
    for position, segment in enumerate(segments):
        if segment == "**":
            regex += "(?:/.*)?" if position else ("(?:.*/)?" if len(segments) > 1 else ".*")
        else:
            leading = position == 0 or (position == 1 and segments[0] == "**")  # "(?:.*/)?" ends with its "/"
            separator = "" if leading else "/"
            regex += separator + _segment_regex(segment)
    # Implicit descendants: a pattern matching a directory matches everything below it.
    if segments[-1] != "**":
        regex += "/.+" if directory_only else "(?:/.+)?"
    return Pattern(negate, re.compile(regex, re.DOTALL), root)


def _search_roots(patterns: list[Pattern]) -> list[str]:
    """The roots of the positive patterns, without those inside another root."""
    roots: list[str] = []
    for root in sorted({pattern.root for pattern in patterns if not pattern.negate}):
        if not any(not kept or root == kept or root.startswith(kept + "/") for kept in roots):
            roots.append(root)
    return roots


def _files_below(workspace: Path, root: str) -> list[str]:
    top = workspace / root
    if not top.is_dir():
        return [root] if top.is_file() else []
    found: list[str] = []
    for directory, _, files in os.walk(top):
        relative_directory = Path(directory).relative_to(workspace).as_posix()
        prefix = "" if relative_directory == "." else relative_directory + "/"
        found.extend(prefix + name for name in files)
    return found


def matching_files(workspace: Path, patterns: list[str]) -> list[str]:
    """Workspace-relative POSIX paths of the files the patterns select, sorted."""
    compiled = [pattern for line in patterns for pattern in [compile_pattern(line)] if pattern is not None]
    if not compiled:
        return []
    selected: list[str] = []
    for root in _search_roots(compiled):
        for path in _files_below(workspace, root):
            included = False
            for pattern in compiled:
                if pattern.negate == included and pattern.regex.fullmatch(path):
                    included = not pattern.negate
            if included and (workspace / path).is_file():
                selected.append(path)
    return sorted(selected)


def hash_files(workspace: Path, patterns: list[str]) -> str:
    lines = [line for pattern in patterns for line in pattern.split("\n")]
    if not any(compile_pattern(line) for line in lines):
        raise ExpressionError("hashFiles() requires at least one pattern")
    files = matching_files(workspace, lines)
    if not files:
        return ""
    total = hashlib.sha256()
    for relative in files:
        total.update(hashlib.sha256((workspace / relative).read_bytes()).digest())
    return total.hexdigest()
