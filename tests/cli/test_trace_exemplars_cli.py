"""``auditlens trace`` lists the metric exemplars that point into the trace (issue 17, point 3).

The evidence is ``auditlens sample --metrics`` (its sealed bundles and its OTLP metrics, a
day of 2026 in nanoseconds); what each exemplar must show is read from the metrics file itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from auditlens.core.store.queries import format_time


@pytest.fixture(scope="module")
def metrics_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A case of the sample's bundles and its metrics, imported through the CLI."""
    from auditlens.cli.main import main

    out = tmp_path_factory.mktemp("metrics-sample") / "sample"
    code = main(["sample", "--out", str(out), "--records", "3000", "--days", "1", "--metrics"])
    assert code == 0
    (metrics,) = sorted((out / "raw" / "metrics").glob("*.jsonl"))
    case = out.parent / "case"
    bundles = sorted(str(p) for p in (out / "bundles").glob("*/*"))
    trust = str(out / "truststore.json")
    assert main(["import", str(case), *bundles, str(metrics), "--trust", trust]) == 3
    return case, metrics


def exemplars_in(metrics: Path) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """``(metric name, data point, exemplar)`` for every exemplar of the file."""
    found = []
    for line in metrics.read_text().splitlines():
        for resource in json.loads(line)["resourceMetrics"]:
            for scope in resource["scopeMetrics"]:
                for metric in scope["metrics"]:
                    for point in metric["sum"]["dataPoints"]:
                        for exemplar in point.get("exemplars", []):
                            found.append((metric["name"], point, exemplar))
    return found


def test_trace_lists_the_metric_exemplars_pointing_into_it(
    cli: Any, metrics_case: tuple[Path, Path]
) -> None:
    case, metrics = metrics_case
    every = exemplars_in(metrics)
    assert every
    name, point, exemplar = every[len(every) // 2]
    trace_id = exemplar["traceId"]
    wanted = [e for n, _, e in every if e["traceId"] == trace_id]

    result = cli("trace", case, trace_id, "--format", "jsonl")
    assert result.code == 0, result.err
    rows = [json.loads(line) for line in result.out.splitlines()]
    shown = [r for r in rows if r["type"] == "metric exemplar"]
    assert len(shown) == len(wanted)
    (row,) = [r for r in shown if r["time"] == format_time(int(exemplar["timeUnixNano"]))]
    assert row["name"].strip() == f"{name} = {int(exemplar['asInt'])} {{event}}"
    assert row["span_id"] == exemplar["spanId"]
    assert row["note"] == (
        f"data point {int(point['asInt'])} {{event}} at {format_time(int(point['timeUnixNano']))}"
    )
    # Under the span it names, one level below it.
    (span,) = [r for r in rows if r["type"] == "span" and r["span_id"] == exemplar["spanId"]]
    assert row["depth"] == span["depth"] + 1
    # The data point is no log of the trace.
    assert not [r for r in rows if r["type"] == "log" and name in r["name"]]

    table = cli("trace", case, trace_id).out
    assert f"{len(wanted)} metric exemplar(s)" in table.splitlines()[0]
    assert any(line.startswith("metric exemplar") and name in line for line in table.splitlines())


def test_an_exemplar_whose_span_is_missing_is_listed_as_such(
    cli: Any, metrics_case: tuple[Path, Path], tmp_path: Path
) -> None:
    _case, metrics = metrics_case
    _name, point, exemplar = exemplars_in(metrics)[0]
    # The same request, its exemplar naming a trace no span of the case belongs to.
    document = json.loads(metrics.read_text().splitlines()[0])
    data = document["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["sum"]
    data["dataPoints"] = [
        {**point, "exemplars": [{**exemplar, "traceId": "5B8EFFF798038103D269B633813FC60C"}]}
    ]
    alone = tmp_path / "alone.jsonl"
    alone.write_text(json.dumps(document) + "\n")
    case = tmp_path / "case"
    assert cli("import", case, alone).code == 3
    result = cli("trace", case, "5b8efff798038103d269b633813fc60c", "--format", "jsonl")
    assert result.code == 0, result.err
    (row,) = [json.loads(line) for line in result.out.splitlines()]
    assert row["type"] == "metric exemplar"
    assert row["time"] == format_time(int(exemplar["timeUnixNano"]))
    assert row["note"].startswith("span not in case; data point")
