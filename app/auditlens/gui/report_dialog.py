"""Whether a PDF report is signed, and with which examiner key (docs/report-signature.md §4).

Asked once the person has chosen a new ``.pdf`` file in Evidence > Report…: sign it with the
examiner's key (made by ``auditlens keygen --examiner NAME``) or not. The certificate is the one
beside the key unless another is chosen, as ``auditlens report --sign KEY [--cert CERT]`` does
(``pdfsign.default_certificate``). The key and certificate are loaded by the core here, on
accept, so a file that cannot be read, or a certificate that is not the key's, is said in the
dialog with the file's name before anything is written; the signer is then handed to the report
job. The key file's path (never the key) is remembered in the settings for the next report.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from auditlens.core.errors import Error
from auditlens.core.report.pdfsign import ReportSigner, default_certificate, load_signer

KEY_SETTING = "report/examiner-key"
SIGN_SETTING = "report/sign"


class ReportSigningDialog(QDialog):
    """Sign the PDF report about to be written, or not; the signer once accepted."""

    def __init__(self, out: Path, settings: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sign the report")
        self.setObjectName("report-signing-dialog")
        self.settings = settings
        self.signer: ReportSigner | None = None
        heading = QLabel(f"<b>Write the examination report to</b><br>{out}")
        heading.setWordWrap(True)
        self.sign = QCheckBox("Sign the PDF with the examiner's key")
        self.key = QLineEdit(str(settings.value(KEY_SETTING) or ""))
        self.key.setPlaceholderText("examiner-key.pem (auditlens keygen --examiner NAME)")
        self.certificate = QLineEdit()
        self.certificate.setPlaceholderText("examiner-cert.pem beside the key")
        self.key.textChanged.connect(self._default_certificate)
        self._default_certificate(self.key.text())
        form = QFormLayout()
        form.addRow("Key file:", self._with_button(self.key, self._choose_key))
        form.addRow("Certificate:", self._with_button(self.certificate, self._choose_certificate))
        self.error = QLabel()
        self.error.setObjectName("signing-error")
        self.error.setStyleSheet("color: #c62828")
        self.error.setWordWrap(True)
        self.error.hide()
        explain = QLabel(
            "A signed report proves who signed it (whoever holds a key the reader trusts) and "
            "that not one byte changed since; 'auditlens verify REPORT.pdf' or any PDF signature "
            "validator checks it. The signing time is your computer's clock, a claim."
        )
        explain.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Write report")
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.sign)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(explain)
        layout.addWidget(buttons)
        self.sign.toggled.connect(self._signing)
        signed_last = settings.value(SIGN_SETTING) in (True, "true")  # an ini file says "true"
        self.sign.setChecked(signed_last and bool(self.key.text()))
        self._signing(self.sign.isChecked())
        self.resize(600, 280)

    def _with_button(self, field: QLineEdit, slot: object) -> QWidget:
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(field, 1)
        button = QPushButton("Choose…")
        button.clicked.connect(slot)
        line.addWidget(button)
        return row

    def _signing(self, on: bool) -> None:
        self.key.setEnabled(on)
        self.certificate.setEnabled(on)
        self.error.hide()

    def _default_certificate(self, key: str) -> None:
        # What the CLI takes without --cert; shown, so the person sees which file is read.
        self.certificate.setPlaceholderText(
            str(default_certificate(Path(key))) if key else "examiner-cert.pem beside the key"
        )

    def _choose_key(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "The examiner's private key", self.key.text(), "PEM keys (*.pem);;All files (*)"
        )
        if name:
            self.key.setText(name)

    def _choose_certificate(self) -> None:
        start = self.certificate.text() or self.certificate.placeholderText()
        name, _ = QFileDialog.getOpenFileName(
            self, "The examiner's certificate", start, "PEM certificates (*.pem);;All files (*)"
        )
        if name:
            self.certificate.setText(name)

    def certificate_path(self) -> Path:
        """The certificate read: the one chosen, else the one beside the key."""
        chosen = self.certificate.text().strip()
        return Path(chosen) if chosen else default_certificate(Path(self.key.text().strip()))

    def _check(self) -> None:
        """Load the key and certificate when signing; accept, or say what is wrong and stay."""
        self.signer = None
        if self.sign.isChecked():
            key = self.key.text().strip()
            if not key:
                self._refuse("choose the examiner's key file (auditlens keygen --examiner NAME)")
                return
            try:
                self.signer = load_signer(Path(key), self.certificate_path())
            except Error as exc:
                self._refuse(exc.diagnostics())
                return
            self.settings.setValue(KEY_SETTING, key)
        self.settings.setValue(SIGN_SETTING, self.sign.isChecked())
        self.accept()

    def _refuse(self, text: str) -> None:
        self.error.setText(f"Cannot sign: {text}")
        self.error.show()
