"""Evidence > Report… signs a PDF with the examiner's key (docs/report-signature.md §4).

The keys are throwaway test keys made in the test by the function ``auditlens keygen --examiner``
uses; the signed file is checked by ``auditlens verify``, as anyone receiving it would.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFileDialog

from auditlens.core.report.pdfsign import ExaminerFiles, write_examiner_files
from auditlens.gui.report_dialog import ReportSigningDialog


@pytest.fixture
def examiner(tmp_path: Path) -> ExaminerFiles:
    return write_examiner_files(tmp_path / "keys", "Ana Examiner (THROWAWAY TEST KEY)")


def entries(case: Path, action: str) -> list[dict[str, Any]]:
    lines = (case / "journal.jsonl").read_text().splitlines()
    return [e for e in map(json.loads, lines) if e["action"] == action]


def choose_pdf(monkeypatch: pytest.MonkeyPatch, out: Path) -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "PDF (*.pdf)"))


def press(dialog: ReportSigningDialog, button: QDialogButtonBox.StandardButton) -> None:
    dialog.buttons.button(button).click()


def in_dialog(steps: Any, seen: list[Any]) -> None:
    """Run ``steps(dialog)`` on the signing dialog once it is up; reject it if a step fails."""

    def run() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ReportSigningDialog):
            QTimer.singleShot(10, run)
            return
        try:
            steps(dialog)
        except BaseException as exc:  # seen by the test; the dialog must not stay open
            seen.append(exc)
        if dialog.isVisible():
            dialog.reject()

    QTimer.singleShot(0, run)


def test_a_signed_report_from_the_workbench_verifies_and_is_journaled_signed(
    qtbot: Any,
    window: Any,
    case_copy: Path,
    tmp_path: Path,
    examiner: ExaminerFiles,
    cli: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other = write_examiner_files(tmp_path / "other", "Someone Else (THROWAWAY TEST KEY)")
    missing = tmp_path / "keys" / "no-such-key.pem"
    out = tmp_path / "signed.pdf"
    choose_pdf(monkeypatch, out)
    said: list[tuple[str, bool]] = []
    failures: list[Any] = []

    def steps(dialog: ReportSigningDialog) -> None:
        dialog.sign.setChecked(True)
        # A key file that is not there: named, and the dialog stays.
        dialog.key.setText(str(missing))
        press(dialog, QDialogButtonBox.StandardButton.Ok)
        said.append((dialog.error.text(), dialog.isVisible()))
        # A certificate that is not the key's: the certificate and the key are named.
        dialog.key.setText(str(examiner.key))
        dialog.certificate.setText(str(other.certificate))
        press(dialog, QDialogButtonBox.StandardButton.Ok)
        said.append((dialog.error.text(), dialog.isVisible()))
        # No certificate named: the one beside the key, as 'report --sign KEY' takes it.
        dialog.certificate.clear()
        assert dialog.certificate.placeholderText() == str(examiner.certificate)
        press(dialog, QDialogButtonBox.StandardButton.Ok)

    in_dialog(steps, failures)
    worker = window.legal.ask_report()
    assert not failures, failures
    assert said[0][1] and str(missing) in said[0][0] and said[0][0].startswith("Cannot sign")
    assert said[1][1] and str(other.certificate) in said[1][0] and str(examiner.key) in said[1][0]
    assert "not the certificate of this key" in said[1][0]
    assert worker is not None
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        pass
    worker.wait()

    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and b"/SubFilter /adbe.pkcs7.detached" in data
    (entry,) = entries(case_copy, "report")
    details = entry["details"]
    assert (details["origin"], details["signed"], details["format"]) == ("workbench", True, "pdf")
    assert details["sha256"] == hashlib.sha256(data).hexdigest()
    assert "Signed by Ana Examiner (THROWAWAY TEST KEY)" in window.legal.message
    checked = cli("verify", out, "--trust", examiner.public)
    assert checked.code == 0, checked.out + checked.err
    assert "Ana Examiner (THROWAWAY TEST KEY)" in checked.out
    # The key's place (never the key) is offered again for the next report.
    assert window.settings.value("report/examiner-key") == str(examiner.key)


def test_an_unsigned_pdf_report_is_journaled_unsigned_and_verify_says_so(
    qtbot: Any,
    window: Any,
    case_copy: Path,
    tmp_path: Path,
    cli: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "plain.pdf"
    choose_pdf(monkeypatch, out)
    failures: list[Any] = []

    def steps(dialog: ReportSigningDialog) -> None:
        assert not dialog.sign.isChecked() and not dialog.key.isEnabled()
        press(dialog, QDialogButtonBox.StandardButton.Ok)

    in_dialog(steps, failures)
    worker = window.legal.ask_report()
    assert not failures, failures
    assert worker is not None
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        pass
    worker.wait()
    (entry,) = entries(case_copy, "report")
    assert entry["details"]["signed"] is False
    assert "Signed by" not in window.legal.message
    assert cli("verify", out).code == 3  # unsealed: REPORT_UNSIGNED


def test_cancelling_the_signing_dialog_writes_and_journals_nothing(
    window: Any, case_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "never.pdf"
    choose_pdf(monkeypatch, out)
    failures: list[Any] = []
    in_dialog(lambda d: press(d, QDialogButtonBox.StandardButton.Cancel), failures)
    assert window.legal.ask_report() is None
    assert not failures, failures
    assert not out.exists() and entries(case_copy, "report") == []
    assert window.legal.message == "no report written"


def test_the_dialog_offers_the_last_key_and_refuses_signing_without_one(
    qtbot: Any, settings: Any, examiner: ExaminerFiles, tmp_path: Path
) -> None:
    dialog = ReportSigningDialog(tmp_path / "r.pdf", settings)
    qtbot.addWidget(dialog)
    assert not dialog.sign.isChecked()
    dialog.sign.setChecked(True)
    press(dialog, QDialogButtonBox.StandardButton.Ok)
    assert dialog.signer is None and "choose the examiner's key file" in dialog.error.text()
    assert dialog.result() != ReportSigningDialog.DialogCode.Accepted
    dialog.key.setText(str(examiner.key))
    press(dialog, QDialogButtonBox.StandardButton.Ok)
    assert dialog.result() == ReportSigningDialog.DialogCode.Accepted
    assert dialog.signer is not None and dialog.signer.name == "Ana Examiner (THROWAWAY TEST KEY)"

    again = ReportSigningDialog(tmp_path / "r2.pdf", settings)
    qtbot.addWidget(again)
    assert again.sign.isChecked() and again.key.text() == str(examiner.key)
    assert again.certificate.placeholderText() == str(examiner.certificate)
