"""Kiln's services under one namespace: the HTTP intake, the Celery worker, the Redis store and
the one-machine development stack (`python -m kiln_services.devstack`, `make run`).

The domain they serve is the `kiln` package; nothing in `kiln` imports from here.
"""
