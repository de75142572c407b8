"""Settings modules: base (shared), development, testing, production.

Their dotted names are facts of the pipeline, kept in pyproject.toml under
[tool.pipeline.settings]; nothing else spells them by hand.
"""
