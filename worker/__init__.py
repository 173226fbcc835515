"""feedwatch: polls news feeds, normalizes every item into a story, publishes each new one once.

The pipeline reads off the tree, one folder per stage, in the order a poll runs them:

- ``fetch/``: the HTTP request, politely (conditional GET, redirects, decompression, time and
  size limits, the private-network guard);
- ``parse/``: response bytes to entries (feedparser, the fast plain RSS/Atom reader, JSON Feed;
  items known from the last poll skipped, partial documents);
- ``normalize/``: one entry to one story (markup, URLs, dates, people, media);
- ``fulltext/``: the article page's text for a teaser-only feed;
- ``dedupe/``: the marks that make a story new once, and near-duplicates across outlets;
- ``publish/``: the output stream (one Lua step with the marks), updates, dead letters;
- ``schedule/``: when each feed is next due and may start: intervals, pacing, per-host limits.

:mod:`worker.poll` ties the stages together for one feed; ``story/`` is what they produce (the
Story type, its text layout, the JSON Schema). At the top, what every stage shares: the config,
the exceptions, the Redis key names (:mod:`worker.keys`), the feed's remembered state, what a
publisher asks of our polling (:mod:`worker.hints`), a poll's outcome and the Lua loader.
Apart: ``service/`` (the Celery app and a worker process's runtime) and ``cli/`` (the
``feedwatch`` command); ``tasks/`` holds the Celery tasks, thin wrappers over the runtime.
"""

__version__ = "0.1.0"
