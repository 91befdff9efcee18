"""core/bundle."""
