"""Use cases: each runs in one unit of work and commits all or nothing."""
