"""The project-copy and Docker-engine fixtures of the pipeline's tests, shared here."""

from pipeline.tests.conftest import docker_engine, project_copy

__all__ = ["docker_engine", "project_copy"]
