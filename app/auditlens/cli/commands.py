"""The sub-commands: each turns parsed arguments into core calls and an exit code."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from auditlens.cli.output import drive, err, out, out_findings, out_json
from auditlens.core.errors import UsageError
from auditlens.core.verify.findings import EXIT_CODES, Verdict
from auditlens.core.verify.report import VerifyReport
from auditlens.core.verify.trust import TrustStore, load_trust
from auditlens.core.verify.verifier import verify_paths


def cmd_keygen(args: argparse.Namespace) -> int:
    """``auditlens keygen``: write a key pair and print its key id."""
    from auditlens.core.crypto.keys import generate, write_keypair

    if args.examiner is not None:
        from auditlens.core.report.pdfsign import write_examiner_files

        files = write_examiner_files(args.out, args.examiner, args.alg or "ecdsa-p256")
        out(files.key_id)
        err(
            f"wrote {files.key} (private, mode 0600), {files.public} and {files.certificate} "
            f"(self-signed, naming {args.examiner}); give {files.public.name} to whoever "
            "checks your reports, for their trust store"
        )
        return 0
    key = generate(args.alg or "ed25519")
    private, public = write_keypair(key, args.out)
    out(key.key_id)
    err(f"wrote {private} (private, mode 0600) and {public}; algorithm {key.algorithm}")
    return 0


def cmd_seal(args: argparse.Namespace) -> int:
    """``auditlens seal``: seal inputs into a bundle."""
    from auditlens.core.bundle.seal import seal
    from auditlens.core.crypto.keys import load_private

    key = load_private(args.key)
    result = drive(
        seal(
            args.inputs,
            key,
            args.out,
            stream_id=args.stream_id,
            previous=args.previous,
            checkpoint_every=args.checkpoint_every,
        )
    )
    m = result.manifest
    out(
        f"sealed {m.count:,} records (seq {m.first_seq}-{m.last_seq}) of stream {m.stream_id} "
        f"into {result.path}"
    )
    out(f"bundle {m.bundle_id}  signer {m.signer_key_id}  manifest sha256 {result.manifest_sha256}")
    return 0


def load_trust_paths(paths: list[Path]) -> TrustStore:
    """A trust store from every ``--trust`` file (stores or PEM keys)."""
    store = TrustStore()
    for path in paths:
        load_trust(path, store)
    return store


def print_report(report: VerifyReport) -> None:
    """The human summary of a verification."""
    out(f"verdict: {report.verdict.value.upper()}")
    # Every path given is in report.bundles, a raw file or an unreadable path too: count the
    # inputs, and as bundles only those with a manifest read (a raw file is no bundle).
    sealed = sum(1 for bundle in report.bundles if bundle.manifest is not None)
    out(
        f"{len(report.bundles)} input(s): {sealed} bundle(s), {report.stream_count} stream(s), "
        f"{report.record_count:,} sealed records, {report.file_count} files, "
        f"{report.check_count} checks"
    )
    for bundle in report.bundles:
        m = bundle.manifest
        what = (
            f"stream {m.stream_id} seq {m.first_seq}-{m.last_seq} signer {m.signer_key_id[:16]}"
            if m
            else ""
        )
        out(f"  [{bundle.verdict.value}] {bundle.path} {what}".rstrip())
        for code, count in sorted(bundle.suppressed.items()):
            out(f"      ... and {count} more {code} findings")
    for stream in report.streams:
        out(
            f"  [{stream.verdict.value}] stream {stream.stream_id} epoch {stream.epoch}: "
            f"{len(stream.bundles)} bundle(s), seq {stream.first_seq}-{stream.last_seq}"
        )
    out_findings(report.findings)


def _verify_apart(
    args: argparse.Namespace,
    paths: list[Path],
    trust: TrustStore,
    verify: Callable[..., tuple[Verdict, Any]],
    key: str,
    kinds: str,
) -> int:
    """Verify ``paths``, all of one kind checked apart from bundles (``verify`` checks them).

    Raises:
        UsageError: when the run names other paths too (``kinds`` says which may not mix).
    """
    if len(paths) < len(args.paths):
        raise UsageError(f"verify {kinds} in separate runs")
    verdict, data = verify(paths, trust, as_json=args.json)
    if args.json:
        out_json({"verdict": verdict.value, key: data})
    return EXIT_CODES[verdict]


def cmd_verify(args: argparse.Namespace) -> int:
    """``auditlens verify``: verify bundles; exit code by verdict."""
    trust = load_trust_paths(args.trust)
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    from auditlens.core.report.exhibit_index import is_exhibit
    from auditlens.core.report.pdfverify import is_pdf

    reports = [p for p in args.paths if is_pdf(p)]
    if reports:
        # A PDF report is checked by its signature (docs/report-signature.md), not as a bundle.
        from auditlens.cli.pdf_commands import verify_reports

        return _verify_apart(
            args, reports, trust, verify_reports, "reports", "PDF reports and bundles or exhibits"
        )
    exhibits = [p for p in args.paths if is_exhibit(p)]
    if exhibits:
        # An exhibit folder (docs/exhibit-format.md) is proven record by record, not as a bundle.
        from auditlens.cli.exhibit_commands import verify_exhibits

        return _verify_apart(
            args, exhibits, trust, verify_exhibits, "exhibits", "exhibit folders and bundles"
        )
    report = drive(verify_paths(args.paths, trust, workers=args.workers), quiet=args.json)
    if args.json:
        out_json(report.to_json())
    else:
        print_report(report)
    return EXIT_CODES[report.verdict]


def cmd_sample(args: argparse.Namespace) -> int:
    """``auditlens sample``: write the synthetic sample case."""
    from auditlens.core.sample.case import build_sample

    case = drive(build_sample(args.out, records=args.records, days=args.days, seed=args.seed))
    count = sum(len(v) for v in case.bundles.values())
    out(
        f"wrote {case.raw.record_count:,} records: raw evidence in {args.out / 'raw'}, "
        f"{count} bundles in {args.out / 'bundles'}, sample trust store {case.truststore}"
    )
    if args.pod_logs:
        from auditlens.core.sample.generator import write_pod_logs

        for path in write_pod_logs(case.raw, args.out / "raw" / "pods", seed=args.seed):
            out(f"wrote the audit stream as a pod log: {path}")
    if args.metrics:
        from auditlens.core.sample.generator import write_metrics

        for path in write_metrics(case.raw, args.out / "raw"):
            out(f"wrote OTLP metrics: {path}")
    return EXIT_CODES[Verdict.VERIFIED]
