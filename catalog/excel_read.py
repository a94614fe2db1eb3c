"""Reading an uploaded ``.xlsx`` or ``.csv`` sheet of financing-need forms: the file's rows, the header row
that names the columns (:func:`match_header`), and each data row's cells as the JSON body of
``POST /projects`` (:func:`row_payload`). Nothing here touches the database; :mod:`.excel_import` validates
and writes the rows.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from openpyxl import load_workbook

from greenmatch import labels, reference
from greenmatch.errors import Invalid, flatten_messages
from greenmatch.text import Msg, translate

from .excel_template import ENTERPRISE_KEYS, IMPORT_COLUMNS, ImportColumn
from .sheets import unescape_text

MAX_COLUMNS = 120  # columns read from an imported sheet (more are ignored)
HEADER_SCAN_ROWS = 10  # the header row must be among the first rows


# ================================================================================================
# Header cells -> columns
# ================================================================================================
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_PARENS = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]")
_NOISE = re.compile(r"[\s_\-.·:：*]+")
_SPLIT_PARTS = re.compile(r"[\n\r/|]+")
# Money headers may carry a unit; amounts are stored in yuan.
MONEY_UNITS = (("亿元", 100_000_000), ("万元", 10_000))


def normalize_header(text: str) -> str:
    return _NOISE.sub("", _PARENS.sub("", text)).casefold()


def _aliases() -> dict[str, ImportColumn]:
    out: dict[str, ImportColumn] = {}
    for column in IMPORT_COLUMNS:
        names = (column.key, column.key.replace(".", "_"), column.key.split(".")[-1]
                 if column.key.startswith(("benefits.", "compliance.")) else column.key, *column.zh, *column.en)
        for name in names:
            out.setdefault(normalize_header(name), column)
    return out


_ALIASES = _aliases()


def match_header(text: Any) -> tuple[ImportColumn, int] | None:
    """The column a header cell names, with the money scale of its unit (1, or 10,000 for ``万元``).
    Accepts ``项目名称``, ``name``, ``Project name``, ``项目名称 Project name``, ``项目名称\\nname``,
    ``总投资（元）`` and ``benefits.co2_reduction_t``."""
    if text is None:
        return None
    text = str(text).strip()
    if not text:
        return None
    candidates = [text, *_SPLIT_PARTS.split(text), "".join(_CJK.findall(text)), _CJK.sub(" ", text)]
    for candidate in candidates:
        column = _ALIASES.get(normalize_header(candidate))
        if column is not None:
            scale = next((s for unit, s in MONEY_UNITS if unit in text), 1) if column.kind == "money" else 1
            return column, scale
    return None


# ================================================================================================
# Files -> rows, and the header row
# ================================================================================================
class FileProblem(Invalid):
    """The uploaded file as a whole cannot be imported (422 naming ``file``)."""

    def __init__(self, message: Msg):
        super().__init__(Msg("%(field)s: %(message)s", field="file", message=message), fields={"file": [message]})


@dataclass
class Sheet:
    """Rows of an uploaded file: ``(spreadsheet row number, cells)``; the header is found later."""

    rows: list[tuple[int, list[Any]]]


def read_upload(filename: str | None, content: bytes, max_rows: int) -> Sheet:
    """Rows of an ``.xlsx`` or ``.csv`` upload; :class:`FileProblem` when unreadable, of the wrong type or
    longer than ``max_rows`` data rows (plus up to :data:`HEADER_SCAN_ROWS` header rows)."""
    if not content:
        raise FileProblem(Msg("the file is empty"))
    name = (filename or "").lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem(Msg("old Excel 97-2003 (.xls) files are not supported; save it as .xlsx or CSV UTF-8"))
    if ext in ("xlsx", "xlsm") or (not ext and content.startswith(b"PK\x03\x04")):
        return Sheet(_xlsx_rows(content, max_rows))
    if ext in ("csv", "txt") or not ext:
        return Sheet(_csv_rows(content, max_rows))
    raise FileProblem(Msg("unsupported file type .%(ext)s: upload an .xlsx workbook or a .csv file", ext=ext))


def _limit(max_rows: int) -> int:
    return max_rows + HEADER_SCAN_ROWS


def too_many_rows(max_rows: int) -> FileProblem:
    return FileProblem(Msg("more than %(n)s rows: split the file (the limit is %(n)s projects per import)", n=max_rows))


def _blank(cells: Iterable[Any]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _xlsx_rows(content: bytes, max_rows: int) -> list[tuple[int, list[Any]]]:
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # zipfile.BadZipFile, InvalidFileException, KeyError, XML errors...
        raise FileProblem(Msg("not a readable .xlsx workbook")) from exc
    try:
        ws = _project_sheet(wb)
        rows: list[tuple[int, list[Any]]] = []
        for number, values in enumerate(ws.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1):
            cells = list(values)
            if _blank(cells):
                continue
            rows.append((number, cells))
            if len(rows) > _limit(max_rows):
                raise too_many_rows(max_rows)
        return rows
    except FileProblem:
        raise
    except Exception as exc:
        raise FileProblem(Msg("not a readable .xlsx workbook")) from exc
    finally:
        wb.close()


def _project_sheet(wb: Any) -> Any:
    for ws in wb.worksheets:
        if any(word in ws.title.casefold() for word in ("项目", "project")):
            return ws
    return wb.worksheets[0]


def _decode(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:  # Excel's "CSV" in a Chinese locale (GBK, a subset of GB18030)
        return content.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise FileProblem(Msg("the CSV is not UTF-8 text; save it as “CSV UTF-8”")) from exc


def _csv_rows(content: bytes, max_rows: int) -> list[tuple[int, list[Any]]]:
    text = _decode(content)
    if "\x00" in text:
        raise FileProblem(Msg("not a text CSV file (binary content); upload an .xlsx workbook or a .csv file"))
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    rows: list[tuple[int, list[Any]]] = []
    try:
        for number, cells in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            cells = cells[:MAX_COLUMNS]
            if _blank(cells):
                continue
            rows.append((number, cells))
            if len(rows) > _limit(max_rows):
                raise too_many_rows(max_rows)
    except csv.Error as exc:
        raise FileProblem(Msg("not a readable CSV file (%(error)s)", error=str(exc))) from exc
    return rows


@dataclass
class Header:
    row_number: int
    columns: dict[int, tuple[ImportColumn, int]]  # cell index -> (column, money scale)
    ignored: list[str] = field(default_factory=list)


def find_header(sheet: Sheet) -> tuple[Header, list[tuple[int, list[Any]]]]:
    """The header row (the first of the first rows naming at least two known columns) and the data rows
    after it; a second header row right below (e.g. English names under Chinese ones) is skipped."""
    for position, (number, cells) in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        matches = {i: m for i, cell in enumerate(cells) if (m := match_header(cell)) is not None}
        if len({m[0].key for m in matches.values()}) < 2:
            continue
        seen: dict[str, Any] = {}
        for i, (column, _scale) in matches.items():
            if column.key in seen:
                raise FileProblem(Msg("the columns “%(a)s” and “%(b)s” both give %(key)s", a=seen[column.key],
                                      b=cells[i], key=column.key))
            seen[column.key] = cells[i]
        ignored = [str(c).strip() for i, c in enumerate(cells) if i not in matches and c not in (None, "")]
        data = sheet.rows[position + 1:]
        if data:
            second = {i for i, cell in enumerate(data[0][1]) if match_header(cell) is not None}
            if len(second) >= 2 and second <= set(matches):
                data = data[1:]
        return Header(number, matches, ignored), data
    known = ", ".join(c.label for c in IMPORT_COLUMNS[:8])
    raise FileProblem(Msg("no header row with known columns in the first %(rows)s rows (e.g. %(known)s, ...)",
                          rows=HEADER_SCAN_ROWS, known=known))


# ================================================================================================
# Cells -> the contract's JSON
# ================================================================================================
_LIST_SEPARATORS = re.compile(r"[;；、,，\n]+")
_TRUE = {"是", "有", "已取得", "已批复", "√", "y", "yes", "true", "t", "1", "on"}
_FALSE = {"否", "无", "未取得", "未批复", "×", "n", "no", "false", "f", "0", "off"}


def _number_text(value: str) -> str:
    return re.sub(r"[,，\s¥￥]|元$", "", value)


def _code_text(value: Any, key: str) -> str:
    """Codes typed into number cells come back as numbers: 4416.0 -> "4416"; a GB/T 4754 code that lost its
    leading zero (511 for 0511) is restored when only the padded form exists."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        text = str(value)
        lost_zero = len(text) == 1 or (len(text) == 3 and not reference.is_industry(text)
                                       and reference.is_industry("0" + text))
        if key == "industry_code" and lost_zero:
            text = "0" + text
        return text
    return str(value).strip()


def enum_key(table: str, text: str) -> str:
    """The key a cell names: the key itself, or its Chinese or English name (greenmatch.labels; plugin names for
    ``instrument``) — "建设阶段" → ``construction``, "绿色信贷" → ``green_credit``; unknown text unchanged."""
    if table == "instrument":
        from greenmatch.instruments import current_plugins

        names = _first_wins((key, (key, p.name_zh, p.name_en)) for key, p in current_plugins().items())
    else:
        names = _label_keys(table)
    return names.get(normalize_header(text), text)


@cache
def _label_keys(table: str) -> dict[str, str]:
    """Normalised key, Chinese and English name -> key, for one label table (made once per table)."""
    return _first_wins((key, (key, translate(msgid, "zh_CN"), msgid))
                       for key, msgid in labels.TABLES.get(table, {}).items())


def _first_wins(entries: Iterable[tuple[str, tuple[str, ...]]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, names in entries:
        for name in names:
            out.setdefault(normalize_header(name), key)
    return out


def convert_cell(column: ImportColumn, value: Any, scale: int = 1) -> Any:
    """A cell as the JSON value the schema expects; ``None`` for an empty cell. Values that cannot be
    converted are passed on unchanged so that the schema reports them in its own words."""
    converted = _convert(column, value, scale)
    if column.names and isinstance(converted, str):
        return enum_key(column.names, converted)
    if column.names and isinstance(converted, list):
        return [enum_key(column.names, part) for part in converted]
    return converted


def _convert(column: ImportColumn, value: Any, scale: int) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    kind = column.kind
    if kind == "code":
        return _code_text(value, column.key)
    if kind == "text":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return unescape_text(value.strip()) if isinstance(value, str) else str(value)
    if kind == "list":
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return [part.strip() for part in _LIST_SEPARATORS.split(str(value)) if part.strip()]
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return {1: True, 0: False}.get(value, value)
        if not isinstance(value, str):  # a date or Decimal cell: the schema refuses it, naming the field
            return value
        word = value.strip().casefold()
        return True if word in _TRUE else False if word in _FALSE else value
    # int, number, money
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = _number_text(value.strip())
        try:
            value = float(text)
        except ValueError:
            return value.strip()
    if isinstance(value, int | float):
        if kind == "money" and scale != 1:
            value = value * scale
        if kind == "int" and float(value).is_integer():
            return int(value)
        return value
    return str(value)


def row_payload(header: Header, cells: list[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the project JSON of ``POST /projects``, the per-row enterprise fields)."""
    data: dict[str, Any] = {}
    enterprise: dict[str, Any] = {}
    for index, (column, scale) in header.columns.items():
        value = convert_cell(column, cells[index] if index < len(cells) else None, scale)
        if value is None:
            continue
        if column.key in ENTERPRISE_KEYS:
            enterprise[column.key] = value
        elif "." in column.key:
            group, key = column.key.split(".", 1)
            data.setdefault(group, {})[key] = value
        else:
            data[column.key] = value
    return data, enterprise


_INDEX_PART = re.compile(r"\.\d+(?=\.|$)")


def field_errors(messages: Any) -> dict[str, list[str]]:
    """marshmallow messages -> {"categories": ["unknown catalogue code 9.9.9"]} (list indexes dropped)."""
    out: dict[str, list[str]] = {}
    for name, msgs in flatten_messages(messages).items():
        bucket = out.setdefault(_INDEX_PART.sub("", name), [])
        bucket.extend(m for m in msgs if m not in bucket)
    return out

