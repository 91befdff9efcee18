"""RFC 8785 canonical JSON for the manifest subset."""

import pytest

from auditlens.core.bundle.canonical import canonicalize
from auditlens.core.errors import InvalidInputError


def test_members_sorted_by_utf16_code_units():
    # RFC 8785 §3.2.3 sorts by UTF-16 code units: the emoji U+1F600 is encoded 0xD83D 0xDE00 and
    # so comes before U+FB33, although its code point is larger.
    value = {"\ufb33": 1, "\U0001f600": 2, "a": 3, "B": 4}
    assert canonicalize(value) == '{"B":4,"a":3,"\U0001f600":2,"\ufb33":1}'.encode()


def test_string_escapes_follow_rfc8785():
    assert canonicalize('a"b\\c\n\t\x01\u2028é') == b'"a\\"b\\\\c\\n\\t\\u0001\xe2\x80\xa8\xc3\xa9"'


def test_nested_and_literals():
    assert (
        canonicalize({"z": [True, False, None, 0, -5], "y": {}})
        == b'{"y":{},"z":[true,false,null,0,-5]}'
    )


@pytest.mark.parametrize("bad", [1.5, 2**53, float("nan"), {1: "x"}, {"a": object()}, "\ud800"])
def test_refuses_what_a_manifest_must_not_hold(bad):
    with pytest.raises(InvalidInputError):
        canonicalize(bad)
