"""Finding the zh_CN catalogue.

Babel ≥ 2.12 resolves the locale ``zh_CN`` to ``zh_Hans_CN`` (likely subtags), and gettext then looks for
``translations/zh_Hans_CN/`` or ``translations/zh/`` — never ``translations/zh_CN/``, where the catalogue
lives. :class:`LocaleDomain` also tries ``<language>_<territory>`` and ``<language>``, so the catalogue is
found whatever Babel calls the locale. Installed once on the shared ``Babel`` object by :func:`install`.
"""

from __future__ import annotations

from babel import support
from flask import Flask
from flask_babel import Domain, get_locale
from flask_babel import _get_current_context as current_context

from ..text import locale_names


class LocaleDomain(Domain):
    def get_translations(self):
        ctx = current_context()
        if ctx is None:
            return support.NullTranslations()
        cache = self.get_translations_cache(ctx)
        locale = get_locale()
        key = (str(locale), self.domain[0])
        if key not in cache:
            translations = support.Translations()
            for index, dirname in enumerate(self.translation_directories):
                domain = self.domain[0] if len(self.domain) == 1 else self.domain[index]
                catalog = support.Translations.load(dirname, locale_names(locale), domain)
                translations.merge(catalog)
                if hasattr(catalog, "plural"):
                    translations.plural = catalog.plural
            cache[key] = translations
        return cache[key]


def install(app: Flask) -> None:
    babel = app.extensions["babel"]
    if not isinstance(babel.instance.__dict__.get("domain_instance"), LocaleDomain):
        babel.instance.domain_instance = LocaleDomain(domain=babel.default_domain)
