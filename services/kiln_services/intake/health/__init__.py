"""Liveness, readiness and metrics: public endpoints."""
