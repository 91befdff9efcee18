"""RFC 8785 (JSON Canonicalization Scheme) for the subset bundle manifests use.

Manifests hold objects, arrays, strings, booleans, ``null`` and integers within the I-JSON safe
range (|n| <= 2**53 - 1); 64-bit values travel as decimal strings (docs/bundle-format.md §7).
Floats are refused rather than canonicalized: no manifest field needs one, and ECMAScript number
formatting is a classic source of cross-implementation mismatches.
"""

from __future__ import annotations

import json
from typing import Any

from auditlens.core.errors import InvalidInputError

MAX_SAFE_INTEGER = 2**53 - 1

# json's encoder escapes exactly what RFC 8785 §3.2.2.2 asks (", \\, the short forms \b \f \n \r
# \t, other controls as lower-case \u00xx) and nothing else when ensure_ascii is off.
_encode_string = json.JSONEncoder(ensure_ascii=False).encode


def canonicalize(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of ``value``.

    Raises:
        InvalidInputError: for floats, unsafe integers, lone surrogates or non-JSON types.
    """
    parts: list[str] = []
    _emit(value, parts)
    try:
        return "".join(parts).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError("string holds a lone surrogate; not valid I-JSON") from exc


def _emit(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise InvalidInputError(f"integer {value} is outside the I-JSON safe range")
        out.append(str(value))
    elif isinstance(value, str):
        out.append(_encode_string(value))
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _emit(item, out)
        out.append("]")
    elif isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise InvalidInputError("object keys must be strings")
        out.append("{")
        # RFC 8785 §3.2.3: members sorted by the UTF-16 code units of their names.
        for i, key in enumerate(
            sorted(value, key=lambda k: k.encode("utf-16-be", "surrogatepass"))
        ):
            if i:
                out.append(",")
            out.append(_encode_string(key))
            out.append(":")
            _emit(value[key], out)
        out.append("}")
    elif isinstance(value, float):
        raise InvalidInputError("floating-point numbers are not allowed in a manifest")
    else:
        raise InvalidInputError(f"value of type {type(value).__name__} is not JSON")
