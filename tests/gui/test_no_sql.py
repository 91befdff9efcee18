"""The workbench holds no SQL (issue 11 point 1): it acts through core.store.session.

An import-linter contract (pyproject.toml) keeps DuckDB and the case's database handle out of
``auditlens.gui``; this test reads every module of it for SQL text in strings (docstrings
included) and for calls that run SQL.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

GUI = Path(__file__).resolve().parents[2] / "app" / "auditlens" / "gui"
SQL = re.compile(
    r"\bSELECT\b|\bINSERT\s+INTO\b|\bDELETE\s+FROM\b|\bUPDATE\s+\w+\s+SET\b|"
    r"\b(CREATE|DROP|ALTER)\s+(OR\s+REPLACE\s+)?(TEMP\s+)?(TABLE|INDEX|VIEW)\b|"
    r"\bORDER\s+BY\b|\bGROUP\s+BY\b|\bWHERE\b|\bATTACH\b|\bPRAGMA\b"
)  # upper case, as the project writes SQL: "select the events" in prose is no query
RUNS_SQL = {"execute", "executemany", "sql", "query", "fetchall", "fetchone", "cursor"}


def sql_in(source: str) -> list[str]:
    """Each SQL-looking string and each call that runs SQL in ``source``, with its line."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if SQL.search(node.value):
                found.append(f"line {node.lineno}: string {node.value[:60]!r}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in RUNS_SQL
        ):
            found.append(f"line {node.lineno}: call .{node.func.attr}(")
    return found


def test_the_checker_finds_sql_text_and_calls() -> None:
    assert sql_in('x = "SELECT count(*) FROM events"\n')
    assert sql_in('x = f"SELECT {c} FROM events"\n')
    assert sql_in("def f(db):\n    return db.execute('x')\n")
    assert sql_in('"""Rows ORDER BY time."""\n')
    assert not sql_in('label = "Select the events of an actor"\n')


def test_no_module_of_the_workbench_holds_sql() -> None:
    modules = sorted(GUI.glob("*.py"))
    assert len(modules) >= 8
    found = {str(path.name): hits for path in modules if (hits := sql_in(path.read_text()))}
    assert found == {}
