"""The layer boundary holds at run time: core and cli never load Qt (STYLE point 2)."""

import subprocess
import sys
from pathlib import Path


def test_core_and_cli_never_load_pyside6():
    code = (
        "import sys, pkgutil, importlib\n"
        "import auditlens.core, auditlens.cli\n"
        "for pkg in (auditlens.core, auditlens.cli):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "from auditlens.cli.main import build_parser\n"
        "build_parser()\n"
        "loaded = sorted(n for n in sys.modules if n.split('.')[0] in ('PySide6', 'shiboken6'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_verifying_a_bundle_loads_neither_duckdb_nor_pyarrow():
    # The case's libraries cost 0.2 s and 60 MB of start-up in the verifier and in each of its
    # worker processes; a bundle's verification reads no case. The exhibit command, registered
    # beside verify, once pulled them in for every run.
    vector = Path(__file__).resolve().parents[1] / "docs" / "vectors" / "tiny-bundle"
    code = (
        "import contextlib, io, sys\n"
        "from auditlens.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main(['verify', {str(vector)!r}, '--json'])\n"
        "loaded = sorted(n for n in sys.modules if n.split('.')[0] in ('duckdb', 'pyarrow'))\n"
        "print(code, ','.join(loaded))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    code_text, loaded = [*result.stdout.strip().split(" ", 1), ""][:2]
    assert code_text in {"0", "3"}, result.stdout + result.stderr
    assert loaded == ""
