"""The project-copy and Docker-engine fixtures of the pipeline's tests, shared here."""

from pipeline.tests.conftest import docker_engine, project_copy, run_nox

__all__ = ["docker_engine", "project_copy", "run_nox"]
