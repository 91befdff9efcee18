"""The ``auditlens`` command: ``gui`` opens the desktop application, the rest is the CLI.

This module lives above both layers so that the CLI never imports Qt (STYLE point 2).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to the GUI or the CLI."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "gui":
        from auditlens.gui.app import main as gui_main

        return gui_main(args[1:])
    from auditlens.cli.main import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
