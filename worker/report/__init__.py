"""What the deployment looks like now, read from Redis: each feed's state (:mod:`.status`),
each host's, and each consumer group's lag (:mod:`.groups`). ``feedwatch status`` prints it;
``feedwatch serve`` turns it into metrics."""
