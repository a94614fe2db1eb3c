"""One translation path: services return message codes with parameters; the edge renders them.

A service never builds a display sentence. It returns a :class:`Msg` — a *message code* (the English
msgid of the gettext catalogue, extracted by pybabel with the keyword ``Msg``) and its parameters —
and the edge (API serialisers, pages, Excel sheets, notifications) renders it with :func:`render` in
the caller's language: the locale Flask-Babel chose for the request (API: ``?lang=`` or
``Accept-Language``, default zh_CN; pages: the chosen locale), or an explicit one (jobs, tests).
There is one catalogue, ``translations/zh_CN/LC_MESSAGES/messages.po``.

Parameters are rendered for the locale too:

* :class:`Msg` — a nested message (a veto's reason inside "… cannot finance it");
* :class:`Label` — an enum value or code name from :mod:`greenmatch.labels` (``Label("stage", "planning")``);
* :class:`Name` — a reference-data name (category, industry, region, instrument) found by the resolver
  the owning part registers with :func:`register_names` (``Name("category", "4.2.2")`` →
  "4.2.2 太阳能利用设施建设和运营");
* :class:`Num`, :class:`Pct`, :class:`Amount` — numbers, shares and money through Babel
  (``Amount(1.5e8, compact=True)`` → "¥1.5亿" / "CN¥150M");
* :class:`Listing` — a list joined with the locale's separator ("、" / ", ");
* plain ``str``/``int`` values are data (a project's name, a code), shown as they are.

A message and its parameters serialise to JSON (:meth:`Msg.to_json` / :func:`from_json`) so stored
results (matches) keep codes, not sentences.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, support
from babel.numbers import format_compact_decimal, format_decimal, format_percent

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DEFAULT_LOCALE = "zh_CN"


def N_(msgid: str) -> str:
    """Marks a msgid for extraction where it is defined (label tables); rendered later by :func:`render`."""
    return msgid


class Param:
    """A parameter rendered for the locale."""

    __slots__ = ()

    def render(self, locale: str) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def to_json(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


class Msg(Param):
    """A message code with parameters. ``Msg("EIA approval missing")``,
    ``Msg("%(count)s greenwashing signal(s)", count=2)``."""

    __slots__ = ("code", "params", "_hash")

    def __init__(self, code: str, /, **params: Any) -> None:
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "params", tuple(sorted(params.items())))
        object.__setattr__(self, "_hash", None)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Msg is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Msg) and self.code == other.code and self.params == other.params

    def __hash__(self) -> int:
        if self._hash is None:
            object.__setattr__(self, "_hash", hash((self.code, self.params)))
        return self._hash

    def __str__(self) -> str:
        """Rendered in the request's language (a schema's String field serialises a message this way)."""
        return self.text()

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.params)
        return f"Msg({self.code!r}{args})"

    def __reduce__(self) -> tuple[Any, ...]:
        return _msg, (self.code, self.params)

    def format(self, **params: Any) -> Msg:
        """This message with the parameters its msgid names bound (marshmallow's validators format their
        messages with ``min``, ``max``, ``choices``, ``input`` ...: only the named ones are kept)."""
        named = {k: v for k, v in params.items() if f"%({k})s" in self.code}
        return Msg(self.code, **dict(self.params), **named) if named else self

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)

    def render(self, locale: str) -> str:
        template = translations(locale).ugettext(self.code)
        if not self.params:
            return template
        return template % {k: inline(v, locale) for k, v in self.params}

    def text(self, locale: str | None = None) -> str:
        """This message in ``locale`` (``"en"``, ``"zh"``/``"zh_CN"``; None: the request's)."""
        return render(self, locale)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"c": self.code}
        if self.params:
            out["p"] = {k: _encode(v) for k, v in self.params}
        return out

    # the old bilingual-pair interface, for code that reads ``reason.en`` / ``reason.zh``
    en = property(lambda self: self.text("en"))
    zh = property(lambda self: self.text("zh_CN"))


def _msg(code: str, params: tuple[tuple[str, Any], ...]) -> Msg:
    return Msg(code, **dict(params))


class _Value(Param):
    __slots__ = ("args",)
    tag = ""

    def __init__(self, *args: Any) -> None:
        object.__setattr__(self, "args", args)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("immutable")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.args == self.args  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.args))

    def __repr__(self) -> str:
        return f"{type(self).__name__}{self.args!r}"

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), self.args

    def to_json(self) -> dict[str, Any]:
        return {self.tag: [_encode(a) for a in self.args]}


class Label(_Value):
    """``Label(table, key)``: the name of an enum value or code, from :data:`greenmatch.labels.TABLES`."""

    __slots__ = ()
    tag = "l"

    def __init__(self, table: str, key: str) -> None:
        super().__init__(table, str(key))

    def render(self, locale: str) -> str:
        from .labels import label_msgid

        table, key = self.args
        msgid = label_msgid(table, key)
        if msgid is None:
            return _unknown_name(key, locale)
        return translations(locale).ugettext(msgid)


class Name(_Value):
    """``Name(kind, code)``: a reference-data name, found by the resolver registered for ``kind``."""

    __slots__ = ()
    tag = "n"

    def __init__(self, kind: str, code: str) -> None:
        super().__init__(kind, str(code))

    def render(self, locale: str) -> str:
        kind, code = self.args
        resolver = _RESOLVERS.get(kind)
        found = resolver(code, is_english(locale)) if resolver is not None else None
        return found if found else _unknown_name(code, locale)


class Num(_Value):
    """A number with ``digits`` decimals and the locale's grouping: ``Num(12345.6, 1)`` → "12,345.6";
    ``digits=None``: as many as it has, up to 4 (``Num(3.8, None)`` → "3.8", ``Num(5.0, None)`` → "5")."""

    __slots__ = ()
    tag = "f"

    def __init__(self, value: float, digits: int | None = 0) -> None:
        super().__init__(float(value), None if digits is None else int(digits))

    def render(self, locale: str) -> str:
        value, digits = self.args
        if digits is None:
            pattern = "#,##0.####"
        else:
            pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        return format_decimal(value, format=pattern, locale=babel_locale(locale))


class Pct(_Value):
    """A share as a percentage: ``Pct(0.034, 1)`` → "3.4%"."""

    __slots__ = ()
    tag = "%"

    def __init__(self, value: float, digits: int = 0) -> None:
        super().__init__(float(value), int(digits))

    def render(self, locale: str) -> str:
        value, digits = self.args
        pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "") + "%"
        return format_percent(value, format=pattern, locale=babel_locale(locale))


class Amount(_Value):
    """Money in yuan through Babel's number formats: exact (``¥1,200,000``) or compact from ¥10,000 up
    (``¥1.5亿``, ``¥3200万`` / ``¥150M``, ``¥1.23B``)."""

    __slots__ = ()
    tag = "m"

    def __init__(self, value: float, compact: bool = False) -> None:
        super().__init__(float(value), bool(compact))

    def render(self, locale: str) -> str:
        value, compact = self.args
        sign, amount = ("-" if value < 0 else ""), abs(value)
        if compact and amount >= 10_000:  # the platform's money is all RMB: "¥", not English CLDR's "CN¥"
            return f"{sign}¥{format_compact_decimal(amount, locale=babel_locale(locale), fraction_digits=2)}"
        return f"{sign}¥{format_decimal(amount, format='#,##0', locale=babel_locale(locale))}"


class Listing(_Value):
    """Items (each rendered) joined with the locale's list separator."""

    __slots__ = ()
    tag = "s"
    separators = ("、", ", ")  # (Chinese, English)

    def __init__(self, items: Iterable[Any]) -> None:
        super().__init__(*tuple(items))

    def render(self, locale: str) -> str:
        if not self.args:
            return translations(locale).ugettext("none")
        return self.separators[is_english(locale)].join(inline(a, locale) for a in self.args)


class Clauses(Listing):
    """Clauses (each rendered) joined with the locale's clause separator ("；" / "; ")."""

    __slots__ = ()
    tag = "k"
    separators = ("；", "; ")


_TAGS: dict[str, type[_Value]] = {c.tag: c for c in (Label, Name, Num, Pct, Amount, Listing, Clauses)}
_RESOLVERS: dict[str, Callable[[str, bool], str | None]] = {}


def register_names(kind: str, resolver: Callable[[str, bool], str | None]) -> None:
    """Let :class:`Name` params of ``kind`` be rendered by ``resolver(code, english) -> name | None``
    (registered by the part that owns the data: the catalog for categories, industries and regions)."""
    _RESOLVERS[kind] = resolver


def _unknown_name(key: str, locale: str) -> str:
    """A code no table or resolver names: shown as it is (never silently hidden)."""
    return str(key)


def _encode(value: Any) -> Any:
    if isinstance(value, Param):
        return value.to_json()
    if isinstance(value, tuple | list):
        return {"s": [_encode(v) for v in value]}
    if isinstance(value, Mapping):
        return {k: _encode(v) for k, v in value.items()}
    return value


def to_json(value: Any) -> Any:
    """A message, parameter or plain value as JSON (stored results keep codes, not sentences)."""
    return _encode(value)


def from_json(data: Any) -> Any:
    """The inverse of :meth:`Msg.to_json` (and of a parameter's ``to_json``)."""
    if isinstance(data, Mapping):
        if "c" in data:
            return Msg(data["c"], **{k: from_json(v) for k, v in (data.get("p") or {}).items()})
        if len(data) == 1:
            (tag, args), = data.items()
            cls = _TAGS.get(tag)
            if cls is Listing or cls is Clauses:
                return cls(from_json(a) for a in args)
            if cls is not None:
                return cls(*[from_json(a) for a in args])
    return data


# -- locale and catalogue -------------------------------------------------------------------------------------
def is_english(locale: str | None) -> bool:
    return str(locale or DEFAULT_LOCALE).startswith("en")


def current_locale() -> str:
    """The locale Flask-Babel chose for this request (the default outside one)."""
    from flask import has_request_context

    if has_request_context():
        from flask_babel import get_locale

        found = get_locale()
        if found is not None:
            return str(found)
    return DEFAULT_LOCALE


@lru_cache(maxsize=8)
def babel_locale(locale: str) -> Locale:
    return Locale.parse("en" if is_english(locale) else DEFAULT_LOCALE)


@lru_cache(maxsize=8)
def _translations(language: str) -> support.NullTranslations:
    if language == "en":
        return support.NullTranslations()  # the msgids are English
    return support.Translations.load(str(TRANSLATIONS), locale_names(Locale.parse(DEFAULT_LOCALE)))


def locale_names(locale: Locale) -> list[str]:
    """Directory names to try for a Babel locale: Babel >= 2.12 calls zh_CN ``zh_Hans_CN``, the catalogue
    lives in ``translations/zh_CN`` (see :mod:`greenmatch.web.i18n`)."""
    names = [str(locale)]
    if locale.territory:
        names.append(f"{locale.language}_{locale.territory}")
    names.append(locale.language)
    return list(dict.fromkeys(names))


class _Extra(support.NullTranslations):
    """Messages of installed third-party plugins (:func:`register_catalogue`), behind the platform's."""

    def __init__(self, base: support.NullTranslations, extra: Mapping[str, str]) -> None:
        super().__init__()
        self.base, self.extra = base, extra

    def ugettext(self, message: str) -> str:
        found = self.base.ugettext(message)
        return self.extra.get(message, found) if found == message else found

    gettext = ugettext


_EXTRA: dict[str, dict[str, str]] = {}


def register_catalogue(locale: str, messages: Mapping[str, str]) -> None:
    """Add a third-party package's translations (msgid -> text) for ``locale`` ("zh_CN"): a plugin
    outside this repository ships its own Chinese for the message codes it returns."""
    if not is_english(locale):
        _EXTRA.setdefault("zh", {}).update(messages)
        _with_extra.cache_clear()


def translations(locale: str) -> support.NullTranslations:
    return _with_extra("en" if is_english(locale) else "zh")


@lru_cache(maxsize=4)
def _with_extra(language: str) -> support.NullTranslations:
    """The platform catalogue, with the registered third-party messages behind it (emptied on registration)."""
    base, extra = _translations(language), _EXTRA.get(language)
    return _Extra(base, extra) if extra else base


def render(value: Any, locale: str | None = None) -> str:
    """``value`` for people: a :class:`Msg` or parameter rendered in ``locale`` (None: the request's)."""
    if value is None:
        return ""
    if locale is None:
        locale = current_locale()
    if isinstance(value, Param):
        return value.render(locale)
    if isinstance(value, float):
        return Num(value, None).render(locale)
    return str(value)


def inline(value: Any, locale: str) -> str:
    """``value`` rendered inside a sentence: in English an enum label or instrument name starts lower-case
    ("not eligible for green credit"), unless it starts with an acronym ("PBoC ...", "CCER ...")."""
    text = render(value, locale)
    if is_english(locale) and (type(value) is Label or (type(value) is Name and value.args[0] == "instrument")) \
            and len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def render_all(values: Iterable[Any], locale: str | None = None) -> list[str]:
    locale = locale or current_locale()
    return [render(v, locale) for v in values]


def translate(msgid: str, locale: str | None = None) -> str:
    """One catalogue msgid (no parameters) in ``locale``."""
    return translations(locale or current_locale()).ugettext(msgid)
