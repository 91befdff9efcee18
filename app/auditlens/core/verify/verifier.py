"""The verifier: every check of docs/verification.md, in order, every finding reported.

Steps (numbered as in docs/verification.md §2, one module of :mod:`.steps` each):

1. container: open read-only; list entries; unsafe names and types, duplicates, hidden bytes;
2. manifest: present, strict JSON, v1 fields, RFC 8785 canonical form;
3. signature: DSSE envelope, payload equals manifest bytes, allowed algorithm, key id, signature;
4. trust: signer in the trust store, within validity, not revoked;
5. inventory: listed files present, nothing unlisted, index files' size and SHA-256;
6. structure: sequence ranges, genesis chain value, checkpoint layout, leaf index size;
7. records: leaves, chain and Merkle root recomputed from the stored bytes; on any difference the
   exact records are localized against ``index/leaves.bin`` (:mod:`.localize`, §2.1);
8. time: clock regression between segments (a warning);
9. across bundles of a stream: gaps, forks, rollbacks, replays (:mod:`.across_bundles`).

Fail closed: a check that cannot run because its input is missing or unreadable reports a finding;
it never passes by default. Nothing is written anywhere. Report types are in :mod:`.report`.
"""

from __future__ import annotations

import os
import tarfile
import zipfile
import zlib
from collections.abc import Generator, Sequence
from concurrent.futures import Executor
from pathlib import Path

from auditlens.core.bundle.container import Container, open_container
from auditlens.core.errors import Error, InvalidInputError, LimitExceededError
from auditlens.core.progress import CancelToken, Progress
from auditlens.core.verify.across_bundles import check_across_bundles
from auditlens.core.verify.check import BundleCheck
from auditlens.core.verify.findings import verdict_of
from auditlens.core.verify.report import BundleReport, VerifyReport, run_verdict
from auditlens.core.verify.steps.container import check_container
from auditlens.core.verify.steps.inventory import check_inventory
from auditlens.core.verify.steps.manifest import check_manifest
from auditlens.core.verify.steps.opening import check_raw_evidence, looks_raw
from auditlens.core.verify.steps.records import PARALLEL_MIN_RECORDS, check_records
from auditlens.core.verify.steps.signature import check_signature
from auditlens.core.verify.steps.structure import check_structure
from auditlens.core.verify.steps.time import check_time
from auditlens.core.verify.steps.trust import check_trust
from auditlens.core.verify.trust import TrustStore
from auditlens.core.workers import BrokenProcessPool, WorkerDiedError

__all__ = ["PARALLEL_MIN_RECORDS", "BundleVerifier", "verify_paths"]


def verify_paths(
    paths: Sequence[Path],
    trust: TrustStore,
    *,
    token: CancelToken | None = None,
    workers: int | None = None,
) -> Generator[Progress, None, VerifyReport]:
    """Verify every path (steps 1-8), then the bundles of each stream together (step 9)."""
    token = token or CancelToken()
    reports: list[BundleReport] = []
    executor: Executor | None = None
    try:
        for index, path in enumerate(paths):
            token.check()
            yield Progress("verifying", index, len(paths), "bundles", f"verifying {path}")
            verifier = BundleVerifier(path, trust, token=token, workers=workers)
            report = yield from verifier.run(executor)
            executor = verifier.executor
            reports.append(report)
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    streams = check_across_bundles(reports)
    findings = [f for r in reports for f in r.findings]
    findings += [s.finding for stream in streams for s in stream.findings]
    return VerifyReport(run_verdict(reports, streams), reports, findings, streams)


class BundleVerifier:
    """Verifies one bundle path: steps 1 to 8 of docs/verification.md §2."""

    def __init__(
        self, path: Path, trust: TrustStore, *, token: CancelToken, workers: int | None = None
    ) -> None:
        self.check = BundleCheck(
            path, trust, token, workers if workers is not None else (os.cpu_count() or 1)
        )

    @property
    def executor(self) -> Executor | None:
        """The worker processes step 7 started, if any, for the next bundle to reuse."""
        return self.check.executor

    def run(self, executor: Executor | None = None) -> Generator[Progress, None, BundleReport]:
        """Open the path and run every step; returns the bundle's report."""
        check = self.check
        check.executor = executor
        try:
            container = open_container(check.path)
        except InvalidInputError as exc:
            if looks_raw(check.path):
                check.report.sealed = False
                yield from check_raw_evidence(check)
            else:
                check.add("NOT_A_BUNDLE", exc.message, path=exc.path or check.name)
            return self._finish()
        with container:
            try:
                yield from self._steps(container)
            except BrokenProcessPool as exc:
                raise WorkerDiedError(
                    "a verification worker process died (killed or out of memory); "
                    "nothing was concluded about this bundle",
                    path=check.name,
                ) from exc
            except LimitExceededError as exc:
                # A limit stops this bundle; what was found so far stands.
                check.add("LIMIT_EXCEEDED", exc.message, path=exc.path or check.name)
            except Error as exc:
                check.add("ARCHIVE_CORRUPT", exc.message, path=exc.path or check.name)
            except (OSError, EOFError, zipfile.BadZipFile, tarfile.TarError, zlib.error) as exc:
                # A damaged archive member (bad CRC, truncated stream) ends reading, never the run.
                check.add("ARCHIVE_CORRUPT", f"cannot read the container: {exc}", path=check.name)
        return self._finish()

    def _steps(self, container: Container) -> Generator[Progress, None, None]:
        check = self.check
        files = check_container(check, container)  # 1
        if files is None:
            return
        manifest_bytes = check_manifest(check, container)  # 2
        manifest = check.report.manifest
        if manifest is None or manifest_bytes is None:
            return
        check.sink.stream_id = manifest.stream_id
        signer = check_signature(check, container, files, manifest, manifest_bytes)  # 3
        if signer is not None:
            check_trust(check, signer.manifest, signer.key_id)  # 4
        usable = check_inventory(check, container, files, manifest)  # 5
        checkpoints = check_structure(check, container, manifest, usable)  # 6
        check.report.checkpoints = checkpoints
        check.report.records = yield from check_records(  # 7
            check, container, manifest, usable, checkpoints
        )
        check_time(check, checkpoints)  # 8

    def _finish(self) -> BundleReport:
        check = self.check
        report = check.report
        report.findings = list(check.sink.findings)
        report.suppressed = dict(check.sink.suppressed)
        report.checks_run = check.sink.checks
        report.verdict = verdict_of(check.sink.findings, sealed=report.sealed)
        if report.records is not None:
            # A record is proven only while the bundle's seal holds (docs/verification.md §2.1).
            report.records.proven = report.seal_holds
        return report
