"""One exception for "the user must do something", carrying the fix.

Fixes that several modules give (how to start a Docker engine) are written
once here, for a user on their own machine.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix. Entry points print it as one paragraph and exit 1."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.problem = problem.rstrip(".")
        self.fix = fix.rstrip(".")

    def __str__(self) -> str:
        return f"{self.problem}. Fix: {self.fix}."


START_DOCKER_FIX = (
    "start a Docker engine: on Linux the Docker service (sudo systemctl start docker), "
    "on macOS or Windows Docker Desktop; for a remote engine set DOCKER_HOST (e.g. ssh://user@host)"
)
INSTALL_DOCKER_FIX = (
    "install Docker: Docker Engine with the buildx and compose plugins on Linux (your distribution's packages "
    "or https://docs.docker.com/engine/install/), Docker Desktop on macOS or Windows"
)


def no_docker_engine() -> UserError:
    """The one message for an engine that does not answer."""
    return UserError("No Docker daemon is reachable", START_DOCKER_FIX)


def no_docker_command() -> UserError:
    return UserError("The docker command is not installed", INSTALL_DOCKER_FIX)
