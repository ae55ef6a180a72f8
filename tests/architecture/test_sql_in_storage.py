"""SQL lives in storage/ alone: it is the one place a second database backend would change."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "sandbox")
SQL = re.compile(
    r"\b(SELECT\s+.+\s+FROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM"
    r"|CREATE\s+(TABLE|INDEX)|BEGIN\s+IMMEDIATE|PRAGMA\s+\w+"
    r"|(?-i:SAVEPOINT|ROLLBACK\s+TO|RELEASE))\b",
    re.IGNORECASE | re.DOTALL,
)


def sql_strings(path: Path) -> list[str]:
    """Every string constant of the module that reads as an SQL statement."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.strip()[:60]!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and SQL.search(node.value)
    ]


def test_no_sql_outside_storage() -> None:
    found = [s for p in PACKAGES for f in sorted((ROOT / p).rglob("*.py")) for s in sql_strings(f)]
    assert found == [], "SQL outside storage/:\n" + "\n".join(found)


def test_the_check_sees_sql() -> None:
    """The pattern must recognise the statements storage/ really writes (else the test above
    passes vacuously)."""
    storage = [s for f in sorted((ROOT / "storage").rglob("*.py")) for s in sql_strings(f)]
    kinds = {k for s in storage for k in ("SELECT", "INSERT", "UPDATE", "DELETE") if k in s}
    assert kinds == {"SELECT", "INSERT", "UPDATE", "DELETE"}
