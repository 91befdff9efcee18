"""The frozen program's entry point: multiprocessing's freeze support, then the command.

Verification and import spawn worker processes (``auditlens.core.workers``); in a frozen program
the worker is this same executable started again, and ``freeze_support`` is what turns that start
into a worker instead of a second ``auditlens`` command. It must run before anything else.
"""

import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()

    from auditlens.entry import main

    sys.exit(main())
