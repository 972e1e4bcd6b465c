"""Kiln's Celery worker: refits surrogates and computes batches; never speaks HTTP.

celery -A worker.app worker -Q proposals,benchmarks --concurrency $WORKER_CONCURRENCY
"""
