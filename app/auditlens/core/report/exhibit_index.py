"""How an exhibit folder is recognised (docs/exhibit-format.md), apart from the exhibit itself.

``auditlens verify`` asks this of every path before choosing how to verify it: kept free of the
case's imports (DuckDB, pyarrow), which verifying a bundle does not need.
"""

from __future__ import annotations

from pathlib import Path

INDEX_NAME = "exhibit.json"


def is_exhibit(path: Path) -> bool:
    """Whether ``path`` is an exhibit folder (it holds ``exhibit.json``).

    A folder that cannot be looked into is not one: the verifier it goes to instead names the
    place it cannot read (``is_file`` raises PermissionError where ``is_dir`` did not).
    """
    try:
        return path.is_dir() and (path / INDEX_NAME).is_file()
    except OSError:
        return False
