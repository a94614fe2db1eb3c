"""The pages speak Chinese: every gettext string and message code (``Msg``/``N_``, greenmatch.text) of the
templates and of every package has a zh_CN translation, the placeholders survive translation, and the
committed .mo matches the .po.

Regenerate after changing strings (from the repository root)::

    pybabel extract -F babel.cfg -k _l -k Msg -k N_ -o /tmp/messages.pot .   # every package and the templates
    pybabel update -i /tmp/messages.pot -d platform/greenmatch/translations -l zh_CN --no-fuzzy-matching
    # translate the new entries in messages.po, then
    pybabel compile -d platform/greenmatch/translations -l zh_CN
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "platform" / "greenmatch" / "translations" / "zh_CN" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None, "Msg": None, "N_": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _msgid(message_id):
    return message_id[0] if isinstance(message_id, tuple | list) else message_id


def _forms(string) -> tuple[str, ...]:
    """A translation's forms (one for simple messages, one per plural form for ngettext ones)."""
    return tuple(string) if isinstance(string, tuple | list) else (string,)


def _translated(message) -> bool:
    return bool(message.string) and all(_forms(message.string)) and not message.fuzzy


@pytest.fixture(scope="module")
def extracted() -> dict[str, list[str]]:
    """msgid -> where it is used, extracted from the sources with babel's own extractor and babel.cfg."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        msgid = _msgid(message)
        if msgid:
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def po():
    with (CATALOGUE / "messages.po").open("rb") as handle:
        return read_po(handle, locale="zh_CN")


def test_sources_have_strings_to_translate(extracted):
    assert len(extracted) > 300
    assert "Review queue" in extracted  # a template string
    assert "Please correct the fields marked below." in extracted  # a python string of the web layer


def test_every_string_has_a_chinese_translation(extracted, po):
    missing = [f"{msgid!r} ({where[0]})" for msgid, where in sorted(extracted.items())
               if msgid not in po or not _translated(po[msgid])]
    assert not missing, f"{len(missing)} strings lack a zh_CN translation:\n" + "\n".join(missing[:50])


def test_catalogue_has_no_stale_strings(extracted, po):
    stale = [m.id for m in po if m.id and _msgid(m.id) not in extracted]
    assert not stale, f"messages.po has strings no source uses any more (pybabel update removes them): {stale[:20]}"


def test_placeholders_survive_translation(po):
    broken = []
    for message in po:
        if not message.id or not message.string:
            continue
        source = _msgid(message.id)
        for form in _forms(message.string):
            if set(PLACEHOLDER.findall(source)) != set(PLACEHOLDER.findall(form)) or \
                    source.count("%%") != form.count("%%"):
                broken.append((source, form))
    assert not broken, broken


def test_compiled_catalogue_is_up_to_date(po):
    mo_path = CATALOGUE / "messages.mo"
    assert mo_path.exists(), "messages.mo is missing: pybabel compile -d platform/greenmatch/translations"
    assert mo_path.stat().st_size > 0
    with mo_path.open("rb") as handle:
        compiled = {_msgid(m.id): _forms(m.string) for m in read_mo(handle) if m.id}
    expected = {_msgid(m.id): _forms(m.string) for m in po if m.id and _translated(m)}
    stale = sorted(k for k in expected.keys() | compiled.keys() if expected.get(k) != compiled.get(k))
    assert not stale, f"messages.mo is stale ({len(stale)} differences, e.g. {stale[:5]}): " \
                      "pybabel compile -d platform/greenmatch/translations -l zh_CN"


def test_the_app_finds_the_catalogue():
    """Babel resolves zh_CN to zh_Hans_CN; the pages must still find translations/zh_CN."""
    from flask_babel import gettext

    from greenmatch import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "TESTING": True})
    with app.test_request_context("/?lang=zh_CN"):
        assert gettext("Review queue") == "审核队列"
    with app.test_request_context("/?lang=en"):
        assert gettext("Review queue") == "Review queue"
