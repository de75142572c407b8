"""The GitHub Actions model `invoke ci` runs: reading workflows, expressions, planning, running."""
