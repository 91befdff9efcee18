"""The built-in sample case: synthetic raw evidence, sealed bundles and a sample trust store.

``build_sample`` writes ``raw/`` (collector-style files), ``bundles/`` (per stream, consecutive
bundles chained to each other, signed with the throwaway sample key) and ``truststore.json``
(trusting that key, marked ``"sample": true``). Everything is deterministic for a given
(records, days, seed): the signing key is derived from a public label and Ed25519 signatures are
deterministic, so two runs produce identical bytes.
"""

from __future__ import annotations

import re
from collections.abc import Generator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from auditlens.core.bundle.seal import seal
from auditlens.core.crypto.keys import SigningKey, sample_key
from auditlens.core.errors import UsageError
from auditlens.core.progress import CancelToken, Progress
from auditlens.core.sample.generator import RawEvidence, generate_raw
from auditlens.core.verify.trust import truststore_document

SAMPLE_KEY_LABEL = "auditlens-sample-v1"
# Containers per stream, so the sample exercises all three kinds.
_CONTAINERS = {"otel-logs": ".zip", "otel-traces": ".tar.gz", "audit": ""}
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class SampleCase:
    """What ``build_sample`` wrote."""

    root: Path
    raw: RawEvidence
    bundles: dict[str, list[Path]]
    truststore: Path
    key: SigningKey


def sample_signing_key() -> SigningKey:
    """The THROWAWAY key of the built-in sample (derivable by anyone; never trust it for real)."""
    return sample_key(SAMPLE_KEY_LABEL)


def _sealed_at(path: Path) -> str:
    match = _DATE.search(path.name)
    if not match:
        return "2026-01-01T00:00:00Z"
    day = date.fromisoformat(match.group(1)) + timedelta(days=1)
    return f"{day.isoformat()}T00:05:00Z"


def build_sample(
    out: Path,
    *,
    records: int = 20_000,
    days: int = 3,
    seed: int = 7,
    token: CancelToken | None = None,
) -> Generator[Progress, None, SampleCase]:
    """Write the sample case into ``out`` (which must not exist or be empty)."""
    token = token or CancelToken()
    if records < 50:
        raise UsageError("--records must be at least 50")
    if days < 1:
        raise UsageError("--days must be at least 1")
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"{out} exists and is not empty")
    yield Progress("generating", 0, records, "records", "generating raw evidence")
    raw = generate_raw(out / "raw", records=records, days=days, seed=seed)
    key = sample_signing_key()
    bundles: dict[str, list[Path]] = {}
    done = 0
    for stream in raw.streams:
        suffix = next((v for k, v in _CONTAINERS.items() if stream.stream_id.endswith(k)), "")
        folder = out / "bundles" / stream.stream_id
        folder.mkdir(parents=True, exist_ok=True)
        previous: Path | None = None
        for number, raw_file in enumerate(stream.files, start=1):
            token.check()
            target = folder / f"{stream.stream_id}-{number:04d}{suffix}"
            result = yield from seal(
                [raw_file],
                key,
                target,
                stream_id=stream.stream_id,
                previous=previous,
                sealed_at=_sealed_at(raw_file),
                source={
                    "platform": "contact-center (synthetic sample)",
                    "export": f"raw/{raw_file.parent.name}/{raw_file.name}",
                },
                token=token,
            )
            done += result.manifest.count
            yield Progress("sealing", done, raw.record_count, "records", f"sealed {target.name}")
            bundles.setdefault(stream.stream_id, []).append(target)
            previous = target
    truststore = out / "truststore.json"
    write_sample_truststore(truststore)
    return SampleCase(out, raw, bundles, truststore, key)


def write_sample_truststore(path: Path) -> None:
    """Write the sample's trust store: the throwaway sample key, marked as a sample."""
    key = sample_signing_key()
    path.write_bytes(
        truststore_document(
            [
                {
                    "key_id": key.key_id,
                    "algorithm": key.algorithm,
                    "public_key": key.public_pem().decode("ascii"),
                    "owner": "AuditLens built-in sample: THROWAWAY key derived from a public label",
                    "not_before": None,
                    "not_after": None,
                    "revoked_at": None,
                    "obtained": "built in (sample only; never trust for real evidence)",
                }
            ],
            sample=True,
        )
    )
