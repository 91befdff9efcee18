"""core/verify."""
