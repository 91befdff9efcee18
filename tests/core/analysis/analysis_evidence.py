"""Evidence written by hand for the analysis tests: not the sample generator's.

Other tenants, actors, addresses and times than the sample (a June 2026 week of tenant
``northwind``, addresses from 192.0.2.0/24 and 10.77.0.0/16), the platform's audit-logger JSON
alone by default, and OTLP log records only where a test needs what audit JSON cannot carry (the
actor's roles, a second stream).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.conftest import drive

from auditlens.core.analysis import detect  # the module
from auditlens.core.analysis.findings import Finding
from auditlens.core.store.case import Case
from auditlens.core.store.importer import import_inputs
from auditlens.core.verify.trust import TrustStore

SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
MONDAY = 1_780_272_000_000_000_000  # 2026-06-01T00:00:00Z


def iso(ns: int) -> str:
    moment = datetime.fromtimestamp(ns // SECOND, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{(ns % SECOND) // 1_000_000:03d}Z"


@dataclass
class Evidence:
    """Audit records (and OTLP log records) to import as raw, unsealed evidence."""

    audit: list[tuple[int, str]] = field(default_factory=list)
    logs: list[tuple[int, str]] = field(default_factory=list)

    def record(
        self,
        t: int,
        actor: str,
        action: str,
        resource: str = "contact",
        resource_id: str = "ct-100",
        ip: str = "10.77.1.10",
        *,
        tenant: str = "northwind",
        updated: dict[str, Any] | None = None,
        level: str = "INFO",
        audit: bool = True,
        log_roles: list[str] | None = None,
        conversation: str | None = None,
    ) -> None:
        """One action: an audit record, and with ``log_roles`` also an OTLP log record of it."""
        document = {
            "timestamp": iso(t),
            "user_id": actor,
            "user_name": actor.title(),
            "action": action,
            "resource": resource,
            "resource_id": resource_id,
            "source_ip_address": ip,
            "attributes": {"service": "pbx-admin", "tenantId": tenant, "updated_data": updated},
            "type": "audit_logging",
            "level": level,
        }
        if audit:
            self.audit.append((t, json.dumps(document)))
        if log_roles is not None:
            attrs: dict[str, Any] = {
                "user.id": actor,
                "user.roles": log_roles,
                "client.address": ip,
                "tenant.id": tenant,
                "audit.action": action,
                "audit.outcome": "failure" if action == "LOGIN_FAILURE" else "success",
                "resource.type": resource,
                "resource.id": resource_id,
            }
            if conversation:
                attrs["conversation.id"] = conversation
            self.logs.append((t, _log_line(t, json.dumps(document), attrs)))

    def routine(
        self,
        actor: str,
        days: range,
        hours: range,
        ip: str,
        *,
        tenant: str = "northwind",
        log_roles: list[str] | None = None,
        per_hour: int = 2,
    ) -> None:
        """An ordinary working pattern: a login each day, then contact reads in ``hours``."""
        for day in days:
            start = MONDAY + day * DAY + hours.start * HOUR
            self.record(
                start,
                actor,
                "LOGIN_SUCCESS",
                "session",
                f"s-{actor}-{day}",
                ip,
                tenant=tenant,
                log_roles=log_roles,
            )
            for hour in hours:
                for k in range(per_hour):
                    t = MONDAY + day * DAY + hour * HOUR + (k * 17 + 7) * MINUTE
                    self.record(
                        t,
                        actor,
                        "READ",
                        "contact",
                        f"ct-{day}{hour}{k}",
                        ip,
                        tenant=tenant,
                        log_roles=log_roles,
                    )

    def write(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        if self.audit:
            path = folder / "audit.jsonl"
            path.write_text("".join(line + "\n" for _, line in sorted(self.audit)))
            paths.append(path)
        if self.logs:
            path = folder / "otel-logs.jsonl"
            path.write_text("".join(line + "\n" for _, line in sorted(self.logs)))
            paths.append(path)
        return paths

    def case(self, root: Path) -> Path:
        inputs = self.write(root / "evidence")
        folder = root / "case"
        with Case.open(folder, create=True) as case:
            drive(import_inputs(case, inputs, TrustStore()))
        return folder


def _log_line(t: int, body: str, attributes: dict[str, Any]) -> str:
    def value(v: Any) -> dict[str, Any]:
        if isinstance(v, list):
            return {"arrayValue": {"values": [{"stringValue": x} for x in v]}}
        return {"stringValue": str(v)}

    record = {
        "timeUnixNano": str(t),
        "severityText": "INFO",
        "body": {"stringValue": body},
        "attributes": [{"key": k, "value": value(v)} for k, v in attributes.items()],
    }
    return json.dumps(
        {
            "resourceLogs": [
                {
                    "resource": {
                        "attributes": [{"key": "service.name", "value": {"stringValue": "pbx"}}]
                    },
                    "scopeLogs": [{"scope": {"name": "pbx.audit"}, "logRecords": [record]}],
                }
            ]
        }
    )


def findings(folder: Path, rules: list[Path] | None = None) -> list[Finding]:
    with Case.open(folder) as case:
        report = drive(detect.run(case, rules))
    return list(report.findings)


def of_rule(found: list[Finding], rule: str) -> list[Finding]:
    return [f for f in found if f.rule == rule]
