"""The audit register's 操作 column in words: every action any code writes to the audit log
(``audit.record(..., action, ...)``) and every refusal (``denied:<what>`` of ``access.deny``
and ``refuse``) reads as words in both languages, never as a raw code. The actions are read
from the source, not from the paths that run (like tests/test_timer_kinds.py)."""

from __future__ import annotations

import ast
import html
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.domain import mobilisation, release, samples, supplies, tips
from bot.domain.registers import CODES
from bot.runtime.render import Renderer
from storage.cipher import Cipher
from storage.registers import _Words
from tests.conftest import ROOT

SOURCES = ("bot", "handlers")
# The actions an f-string writes, by its source: each value it can take. A new one fails
# ``test_every_action_written_is_found`` until it is listed here.
DYNAMIC: dict[str, tuple[str, ...]] = {
    "f'denied:{what}'": (),  # access.deny: the refusals are found at its callers
    "f'view:{report.subject}'": ("view:report:1",),
    "f'mobilisation.{to}'": tuple(f"mobilisation.{s}" for s in mobilisation.ANSWER_CODES.values()),
    "f'monitoring.{action}'": ("monitoring.extend", "monitoring.shorten"),
    "f'monitoring.{what}'": (
        "monitoring.sample",
        *(f"monitoring.r{r[:3]}" for r in (samples.NEGATIVE, samples.POSITIVE)),
    ),
    "f'release.confirm.{decision.outcome}'": tuple(f"release.confirm.{o}" for o in release.Outcome),
    "f'samples.{result}'": tuple(f"samples.{r}" for r in samples.RESULTS),
    "f'supply.{move.kind}'": tuple(f"supply.{k}" for k in supplies.OPS.values()),
    "f'supply.request_{state}'": ("supply.request_issued", "supply.request_refused"),
    "f'tip.{outcome}'": tuple(f"tip.{o}" for o in tips.OUTCOMES),
    "f'transfer.{event}'": ("transfer.acknowledge", "transfer.pick_up", "transfer.deliver"),
    "f'report.{outcome}'": ("report.verified", "report.wrong"),
}
_HOLE = "x"  # a refusal's f-string part: the noun before it names what was refused
Function = ast.FunctionDef | ast.AsyncFunctionDef


def _recorded(tree: ast.Module) -> Iterator[tuple[ast.Call, ast.expr]]:
    """``audit.record(conn, now, actor, action, ...)``: its action."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "record" and getattr(node.func.value, "id", "") == "audit"
                and len(node.args) > 3):  # fmt: skip
            yield node, node.args[3]


def _refused(tree: ast.Module) -> Iterator[tuple[ast.Call, ast.expr]]:
    """``access.deny(services, actor, what, ...)``, ``<gate>.refuse(update, actor, what,
    ...)``: its ``what``; and what a flow is refused as (its ``permission``, the first of
    its ``commit_check``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and len(node.args) > 2:
            func = node.func
            if (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")) in (
                "deny", "refuse"):  # fmt: skip
                yield node, node.args[2]
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.Assign) and getattr(item.targets[0], "id", "") == (
                    "permission"):  # fmt: skip
                    yield item, item.value  # type: ignore[misc]
        elif isinstance(node, Function) and node.name == "commit_check":
            for ret in ast.walk(node):
                if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Tuple):
                    yield ret, ret.value.elts[0]  # type: ignore[misc]


def _constants(paths: list[Path]) -> dict[str, str]:
    """Every module's ``NAME = "literal"`` (``service.PERMISSION`` of another module)."""
    found = {}
    for path in paths:
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)):  # fmt: skip
                found.update({t.id: node.value.value for t in node.targets
                              if isinstance(t, ast.Name) and t.id.isupper()})  # fmt: skip
    return found


def _element(value: ast.expr, index: int | None) -> list[ast.expr]:
    """The expressions ``value`` gives the ``index``-th of a tuple assigned (all of it for
    None), through ``a if c else b``."""
    if isinstance(value, ast.IfExp):
        return _element(value.body, index) + _element(value.orelse, index)
    if index is not None and isinstance(value, ast.Tuple):
        return [value.elts[index]]
    return [value]


class _Scan:
    """Every code an expression can be (None when the scan cannot tell)."""

    def __init__(self, tree: ast.Module, constants: dict[str, str]) -> None:
        self.tree = tree
        self.constants = constants
        self.functions = {n.name: n for n in ast.walk(tree) if isinstance(n, Function)}

    def values(self, expr: ast.expr, scope: Function | None) -> list[str] | None:
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return [expr.value]
        if isinstance(expr, ast.IfExp):
            return self._all([expr.body, expr.orelse], scope)
        if isinstance(expr, ast.JoinedStr):
            return list(DYNAMIC[ast.unparse(expr)]) if ast.unparse(expr) in DYNAMIC else None
        if isinstance(expr, ast.Attribute) and expr.attr in self.constants:
            return [self.constants[expr.attr]]
        if isinstance(expr, ast.Call) and getattr(expr.func, "id", None) in self.functions:
            returns = [n.value for n in ast.walk(self.functions[expr.func.id])
                       if isinstance(n, ast.Return) and n.value is not None]  # fmt: skip
            return self._all(returns, None)
        if isinstance(expr, ast.Name):
            if expr.id in self.constants:
                return [self.constants[expr.id]]
            return self._local(expr.id, scope)
        return None

    def _all(self, exprs: list[ast.expr], scope: Function | None) -> list[str] | None:
        found = [self.values(e, scope) for e in exprs]
        return None if not found or None in found else [v for f in found for v in f or ()]

    def _local(self, name: str, scope: Function | None) -> list[str] | None:
        """A parameter: what its callers pass; a variable: what is assigned to it."""
        if scope is None:
            return None
        params = [a.arg for a in scope.args.args]
        if name in params:
            at = params.index(name)
            calls = [n for n in ast.walk(self.tree) if isinstance(n, ast.Call)
                     and getattr(n.func, "id", "") == scope.name and len(n.args) > at]  # fmt: skip
            return self._all([c.args[at] for c in calls], None)
        given = []
        for node in ast.walk(scope):
            for target in node.targets if isinstance(node, ast.Assign) else ():
                names = target.elts if isinstance(target, ast.Tuple) else [target]
                for index, element in enumerate(names):
                    if getattr(element, "id", "") == name:
                        at = index if isinstance(target, ast.Tuple) else None
                        given += _element(node.value, at)
        return self._all(given, scope)

    def enclosing(self, node: ast.AST) -> Function | None:
        inner = [f for f in self.functions.values() if any(n is node for n in ast.walk(f))]
        return min(inner, key=lambda f: len(list(ast.walk(f))), default=None)


def _refusal(expr: ast.expr, scan: _Scan) -> list[str] | None:
    """``denied:<what>``: an f-string's parts stand for anything (``f"tip.{action}"``: the
    noun, 线索, says what was refused); a ``what`` passed on is found where it is given."""
    if isinstance(expr, ast.JoinedStr):
        text = "".join(v.value if isinstance(v, ast.Constant) else _HOLE for v in expr.values)
        return [f"denied:{text}"]
    if isinstance(expr, ast.Name | ast.Attribute | ast.Subscript | ast.BoolOp | ast.Call):
        values = scan.values(expr, None)
        return [f"denied:{v}" for v in values] if values else []
    return [f"denied:{v}" for v in scan.values(expr, None) or ()] or None


def written() -> dict[str, list[str]]:
    """Each action found, with where; one the scan cannot resolve as ``?<where>``."""
    found: dict[str, list[str]] = {}
    paths = sorted(p for top in SOURCES for p in (ROOT / top).rglob("*.py"))
    constants = _constants(paths)
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        scan = _Scan(tree, constants)
        for node, expr in _recorded(tree):
            codes = scan.values(expr, scan.enclosing(node))
            for code in codes if codes is not None else [f"?{path.name}:{node.lineno}"]:
                found.setdefault(code, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
        for node, expr in _refused(tree):
            codes = _refusal(expr, scan)
            for code in codes if codes is not None else [f"?{path.name}:{node.lineno}"]:
                found.setdefault(code, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def words(locale: str) -> _Words:
    render = Renderer()
    names = {f"{kind}:{code}": render.text(locale, "registers", "code", kind=kind, code=code)
             for kind, codes in CODES.items() for code in codes}  # fmt: skip
    return _Words({k: html.unescape(v) for k, v in names.items() if v}, Cipher(b"k" * 32))


def test_every_action_written_is_found() -> None:
    found = written()
    assert [code for code in found if code.startswith("?")] == []
    for code in ("report.create", "export", "audit.export", "posters", "view:tip",
                 "denied:export", "denied:unit.x", "certificate.check", "staff.bind",
                 "arrival.import_rejected", "unit_report.zero", "tip.confirmed"):  # fmt: skip
        assert code in found, code


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_action_written_has_words(locale: str) -> None:
    action = words(locale).action
    assert {code: where for code, where in written().items() if action(code) == code} == {}


@pytest.mark.parametrize(
    ("code", "zh_CN", "en"),
    [
        ("report.create", "新登记来返人员", "Register an arrival"),
        ("view:tip", "查看线索", "View a tip"),
        ("view:report:12", "查看来返人员登记", "View an arrival's report"),
        ("denied:export", "被拒绝：导出台账", "Refused: Export a register"),
        ("denied:tip.close", "被拒绝：线索", "Refused: a tip"),
        ("denied:samples.record", "被拒绝：核酸结果", "Refused: test results"),
        ("denied:report.view", "被拒绝：查看来返人员登记", "Refused: View an arrival's report"),
        ("something.new", "something.new", "something.new"),  # no word: as stored
        ("denied:nothing", "denied:nothing", "denied:nothing"),
        ("view:", "view:", "view:"),
    ],
)
def test_an_action_in_words(code: str, zh_CN: str, en: str) -> None:
    assert (words("zh_CN").action(code), words("en").action(code)) == (zh_CN, en)
