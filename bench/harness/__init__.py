"""What several benchmarks share: reporting (log lines, targets, JSON results), figures,
profiles and timing. A benchmark's own parts live beside its script (``bench/<name>.py`` with
``bench/<name>_*.py`` or a package of its own); this package holds only what two or more use.
"""
