"""core/query."""
