"""The one access point to AuditLens's resources (profiles, samples) in any installation.

Frozen (PyInstaller) builds carry them under ``sys._MEIPASS/resources``; a checkout or an
editable install finds them at the repository root. Callers receive paths and pass them down;
nothing else in the code base looks for resource files on its own.
"""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """The ``resources/`` folder."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parents[3] / "resources"


def profiles_dir() -> Path:
    """Built-in mapping profiles."""
    return resources_dir() / "profiles"


def sample_case_dir() -> Path:
    """The shipped sample case source (raw evidence, bundles, sample trust store)."""
    return resources_dir() / "samples" / "contact-center"
