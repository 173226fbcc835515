"""feedwatch: polls news feeds, normalizes every item into a story, publishes each new one once.

The pipeline reads off the tree: ``fetch`` → ``parse`` → ``normalize`` → ``dedupe`` → ``publish``,
driven by ``poll`` for one feed and scheduled by ``schedule``; ``tasks/`` wraps it for Celery.
"""

__version__ = "0.1.0"
