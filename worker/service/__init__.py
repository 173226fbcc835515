"""The Celery service: the app, the worker process's runtime, its threads, Redis."""
