"""Kiln's Celery worker: refits surrogates and computes batches; never speaks HTTP.

celery -A kiln_services.worker.app worker -Q proposals,benchmarks --concurrency $WORKER_CONCURRENCY
"""
