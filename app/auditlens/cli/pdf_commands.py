"""The verification of signed PDF reports: ``auditlens verify REPORT.pdf`` (issue 14, point 3).

``auditlens verify`` hands any PDF to :func:`verify_reports` here; core/report/pdfverify.py
checks it (docs/report-signature.md, "Verifying"); this module prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from auditlens.cli.output import out, out_findings
from auditlens.core.verify.findings import Verdict, worst
from auditlens.core.verify.trust import TrustStore


def verify_reports(paths: list[Path], trust: TrustStore, *, as_json: bool) -> tuple[Verdict, Any]:
    """Check each PDF's signature; print them unless ``as_json``; the worst verdict and the JSON."""
    from auditlens.core.report.pdfverify import verify_report_pdf

    checks = [verify_report_pdf(path, trust) for path in paths]
    if not as_json:
        for check in checks:
            out(f"report verdict: {check.verdict.value.upper()}  {check.path}")
            out(f"  file: {check.size:,} bytes, sha256 {check.sha256}")
            if check.signer:
                out(f"  signed by: {check.signer}")
                out(f"  key: {check.key_id} (SHA-256 of its SubjectPublicKeyInfo)")
                out(f"  certificate: sha256 {check.certificate_sha256}")
                if check.signed_at:
                    out(f"  signed at: {check.signed_at} (claimed by the signer, not a timestamp)")
                out(f"  signed bytes: {check.signed_bytes:,} of {check.size:,}")
                if check.owner:
                    out(f"  trusted as: {check.owner}")
            out_findings(check.findings)
            if check.verdict in (Verdict.VERIFIED, Verdict.UNTRUSTED):
                out(
                    "  proven: the holder of this key signed exactly these bytes; not proven: "
                    "that what the report says is true, nor when it was signed"
                )
    return worst([c.verdict for c in checks]), [c.to_json() for c in checks]
