"""Helpers the test layers share (tests/ is on sys.path through its root conftest)."""
