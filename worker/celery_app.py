"""The name the deploy commands load, ``celery -A worker.celery_app worker`` (and ``beat``):
the app of :mod:`worker.service.celery_app`."""

from worker.service.celery_app import app

__all__ = ["app"]
