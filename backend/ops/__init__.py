"""Operational code: liveness and readiness, the production configuration check, waiting for the database.

The project package depends on this app and on the domain apps; this app
imports neither, and no domain app imports it.
"""
