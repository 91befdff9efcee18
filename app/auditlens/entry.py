"""The ``auditlens`` command: ``gui`` opens the desktop application, the rest is the CLI.

This module lives above both layers so that the CLI never imports Qt (STYLE point 2).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to the GUI or the CLI."""
    args = list(sys.argv[1:] if argv is None else argv)
    # numpy (which pyarrow and matplotlib import) starts an OpenBLAS thread per core that spins
    # while it waits; AuditLens does no linear algebra, and the import's decoding workers
    # inherit the setting (0.6 % of an import's CPU, bench/README.md "Import CPU"). Set before
    # anything imports numpy; an examiner's own setting is kept.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if args and args[0] == "gui":
        from auditlens.gui.app import main as gui_main

        return gui_main(args[1:])
    from auditlens.cli.main import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
