"""The layer boundary holds at run time: core and cli never load Qt (STYLE point 2)."""

import subprocess
import sys


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
