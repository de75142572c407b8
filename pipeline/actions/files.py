"""The runner's command files: GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH, GITHUB_STEP_SUMMARY."""

from __future__ import annotations

from pathlib import Path


def parse_key_values(text: str) -> dict[str, str]:
    """`key=value` lines and `key<<DELIMITER` heredocs, as GITHUB_OUTPUT and GITHUB_ENV hold them."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if "<<" in line and "=" not in line.split("<<", 1)[0]:
            key, delimiter = line.split("<<", 1)
            body: list[str] = []
            while index < len(lines) and lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            index += 1
            values[key] = "\n".join(body)
        elif "=" in line:
            key, value = line.split("=", 1)
            values[key] = value
    return values


def read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


class CommandFiles:
    """One step's four files, fresh for each step (GitHub gives each step its own)."""

    NAMES = ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")

    def __init__(self, folder: Path, step: int | str) -> None:
        self.paths = {name: folder / f"step-{step}.{name.lower()}" for name in self.NAMES}
        for path in self.paths.values():
            path.write_text("", encoding="utf-8")

    def environ(self) -> dict[str, str]:
        return {name: str(path) for name, path in self.paths.items()}

    def outputs(self) -> dict[str, str]:
        return parse_key_values(read(self.paths["GITHUB_OUTPUT"]))

    def env(self) -> dict[str, str]:
        return parse_key_values(read(self.paths["GITHUB_ENV"]))

    def path_entries(self) -> list[str]:
        return [line.strip() for line in read(self.paths["GITHUB_PATH"]).splitlines() if line.strip()]

    def summary(self) -> str:
        return read(self.paths["GITHUB_STEP_SUMMARY"])
