"""Deterministic synthetic evidence for tests, demos and benchmarks."""

from auditlens.core.sample.generator import RawEvidence, RawStream, generate_raw

__all__ = ["RawEvidence", "RawStream", "generate_raw"]
