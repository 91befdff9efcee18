"""Coverage-guided fuzzing of the verifier and the importers (``python -m tests.fuzz.harness``)."""
