"""``feedwatch serve``: one HTTP process that every worker reports to through Redis.

``/metrics`` (:mod:`worker.web.metrics`) for Prometheus, ``/healthz`` and ``/readyz``
(:mod:`worker.web.readiness`) for orchestrators; :mod:`worker.web.server` routes them.
"""
