"""docs/robustness.md names every case of the hostile corpus (the doc and corpus cannot drift)."""

import re
from pathlib import Path

from hostile.make_hostile import BUILDERS

DOC = Path(__file__).resolve().parents[1] / "docs" / "robustness.md"


def test_the_robustness_table_lists_every_hostile_case():
    listed = re.findall(r"^\| `([a-z0-9_]+)` \|", DOC.read_text(), flags=re.MULTILINE)
    assert sorted(listed) == sorted(BUILDERS)
    assert "NOT at that place" not in DOC.read_text()
