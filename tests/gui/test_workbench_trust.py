"""Importing from the workbench uses the case's trust store or asks for one (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from auditlens.gui.main_window import MainWindow

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "contact-center"
BUNDLE = sorted((SAMPLE / "bundles" / "cc-prod.audit").iterdir())[0]
TRUST = SAMPLE / "truststore.json"


def answer(button_text: str, asked: list[str]) -> None:
    """Click ``button_text`` in the next modal message box, noting its text."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(10, click)
            return
        asked.append(box.text())
        (button,) = [b for b in box.buttons() if b.text() == button_text]
        button.click()

    QTimer.singleShot(0, click)


@pytest.fixture
def window(qtbot, settings, tmp_path):
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    window.show()
    window.open_case(tmp_path / "case", create=True)
    yield window
    window.close()


def imported(qtbot, window) -> list[str]:
    assert window.worker is not None
    with qtbot.waitSignal(window.worker.finished, timeout=60_000):
        pass
    window.worker.wait()
    return [r["verdict"] for r in window.integrity.bundles.rows]


def test_cancel_at_the_question_imports_nothing(qtbot, window):
    asked: list[str] = []
    answer("Cancel", asked)
    assert window.start_import([BUNDLE]) is None
    assert asked == ["This case has no trust store."]
    assert window.case.counts().inputs == 0


def test_importing_without_a_trust_store_is_a_choice_and_leaves_bundles_untrusted(qtbot, window):
    asked: list[str] = []
    answer("Import without", asked)
    assert window.start_import([BUNDLE]) is not None
    assert asked == ["This case has no trust store."]
    assert imported(qtbot, window) == ["untrusted"]


def test_a_trust_store_chosen_at_the_question_is_used_and_kept_with_the_case(
    qtbot, window, settings, monkeypatch
):
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(TRUST)], ""))
    asked: list[str] = []
    answer("Choose trust store…", asked)
    assert window.start_import([BUNDLE]) is not None
    assert imported(qtbot, window) == ["verified"]
    folder = window.case_dir
    window.close()
    entries = [json.loads(line) for line in (folder / "journal.jsonl").read_text().splitlines()]
    (chosen,) = [e["details"] for e in entries if e["action"] == "trust_store"]
    assert chosen["files"][0]["path"] == str(TRUST.resolve())
    assert len(chosen["files"][0]["sha256"]) == 64
    # Opened again, the case imports with its trust store without asking.
    again = MainWindow(folder, settings=settings)
    qtbot.addWidget(again)
    again.show()
    assert again.trust_files == [TRUST.resolve()]
    second = sorted((SAMPLE / "bundles" / "cc-prod.audit").iterdir())[1]
    monkeypatch.setattr(
        MainWindow, "ask_about_trust", lambda self: pytest.fail("asked with a trust store")
    )
    again.start_import([second])
    assert imported(qtbot, again) == ["verified", "verified"]
    again.close()


def test_raw_evidence_imports_without_the_question(qtbot, window, tmp_path, monkeypatch):
    raw = tmp_path / "audit.jsonl"
    raw.write_text(
        json.dumps({"timestamp": "2026-03-02T08:00:00.000Z", "user_id": "u1", "action": "READ"})
        + "\n"
    )
    monkeypatch.setattr(
        MainWindow, "ask_about_trust", lambda self: pytest.fail("asked for raw evidence")
    )
    assert window.start_import([raw]) is not None
    with qtbot.waitSignal(window.worker.finished, timeout=60_000):
        pass
    window.worker.wait()
    assert window.case.counts().events == 1
