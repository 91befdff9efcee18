"""Small conversions of source values to event columns, shared by the formats' event mapping."""

from __future__ import annotations

import base64
import json
from typing import Any


def text(value: Any) -> str | None:
    """A column's text for a source value: ``None`` for empty ones, lists joined by commas."""
    if type(value) is str:  # the common case, answered as below: "" is None, text itself
        return value or None
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list):
        return ",".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def integer(value: Any) -> int | None:
    """An integer column's value, or ``None`` when the source value is no integer."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def id_hex(value: Any) -> str | None:
    """OpenSearch stores ids as hex already; protobuf JSON would be base64 (kept as hex)."""
    if not isinstance(value, str) or not value:
        return None
    if all(c in "0123456789abcdefABCDEF" for c in value):
        return value.lower()
    try:
        return base64.b64decode(value, validate=True).hex()
    except ValueError:
        return value


def flatten(value: Any, prefix: str, out: dict[str, Any], depth: int = 0) -> None:
    """Add every leaf of nested objects to ``out`` under its dotted path (8 levels at most)."""
    if isinstance(value, dict) and depth < 8:
        for key, item in value.items():
            flatten(item, f"{prefix}.{key}" if prefix else str(key), out, depth + 1)
    else:
        out[prefix] = value


# Kubernetes filter keys (Fluent Bit's names) -> event attribute names (OTel's k8s.* names).
_K8S_ATTRIBUTES = (
    ("namespace_name", "k8s.namespace.name"),
    ("pod_name", "k8s.pod.name"),
    ("pod_id", "k8s.pod.uid"),
    ("container_name", "k8s.container.name"),
    ("restart_count", "k8s.container.restart_count"),
    ("host", "k8s.node.name"),
    ("container_image", "container.image.name"),
    ("docker_id", "container.id"),
)


def kubernetes_attributes(kubernetes: dict[str, Any], out: dict[str, Any]) -> None:
    """Add a Kubernetes filter's metadata to ``out`` under OTel's names (labels, annotations)."""
    for key, name in _K8S_ATTRIBUTES:
        if key in kubernetes:
            out[name] = kubernetes[key]
    for key, prefix in (("labels", "k8s.pod.label."), ("annotations", "k8s.pod.annotation.")):
        values = kubernetes.get(key)
        if type(values) is dict:
            for name, value in values.items():
                out[prefix + str(name)] = value
