"""marshmallow's built-in validation messages as message codes (greenmatch.text), installed once.

marshmallow answers "Not a valid number.", "Shorter than minimum length 2." ... in English. Its documented
way to change them is to replace the defaults of the field classes (``default_error_messages``), the
schema (``_default_error_messages``) and the validators (their ``message_*`` / ``default_message``
attributes). :func:`install` replaces them with :class:`~greenmatch.text.Msg` codes, so every
validation error — from a schema, a plugin's params schema or a webargs query — reaches the edge as a
code and is rendered in the caller's language there (errors.py for the API, web/forms.py for pages).

A validator formats its message with ``message.format(min=..., max=..., choices=...)``; ``Msg.format``
binds the parameters its msgid names (see :meth:`greenmatch.text.Msg.format`).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from .text import N_, Msg

FIELD_MESSAGES = {
    "required": N_("This field is required."),
    "null": N_("This field is required."),
    "validator_failed": N_("Invalid value."),
}
TYPE_MESSAGES: dict[type[fields.Field], dict[str, str]] = {
    fields.String: {"invalid": N_("Enter text."), "invalid_utf8": N_("Enter text.")},
    fields.Number: {"invalid": N_("Enter a number."), "too_large": N_("The number is too large.")},
    fields.Integer: {"invalid": N_("Enter a whole number.")},
    fields.Float: {"special": N_("Enter a number.")},
    fields.Decimal: {"special": N_("Enter a number.")},
    fields.Boolean: {"invalid": N_("Choose yes or no.")},
    fields.Date: {"invalid": N_("Enter a valid date."), "format": N_("Enter a valid date.")},
    fields.DateTime: {"invalid": N_("Enter a valid date and time."), "format": N_("Enter a valid date and time."),
                      "invalid_awareness": N_("Enter a valid date and time.")},
    fields.List: {"invalid": N_("Choose from the list.")},
    fields.Tuple: {"invalid": N_("Choose from the list.")},
    fields.Dict: {"invalid": N_("Not a valid object.")},
    fields.Nested: {"type": N_("Not a valid object.")},
    fields.Enum: {"unknown": N_("Choose one of the options.")},
    fields.UUID: {"invalid_uuid": N_("Not a valid identifier.")},
}
SCHEMA_MESSAGES = {"type": N_("Not a valid object."), "unknown": N_("Unknown field.")}

_installed = False


def install() -> None:
    """Replace marshmallow's default messages by message codes (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    _wrap_messages()
    for cls in _field_classes():
        if issubclass(cls, fields.Email | fields.URL):
            continue  # they insist on str messages: use greenmatch.validation.Email instead
        cls.default_error_messages = {
            key: Msg(FIELD_MESSAGES.get(key) or _type_message(cls, key) or N_("Invalid value."))
            for key in cls.__dict__.get("default_error_messages", {})}
    Schema._default_error_messages = {k: Msg(v) for k, v in SCHEMA_MESSAGES.items()}
    validate.Length.message_min = Msg("Enter at least %(min)s (characters or entries).")
    validate.Length.message_max = Msg("Enter at most %(max)s (characters or entries).")
    validate.Length.message_all = Msg("Enter between %(min)s and %(max)s (characters or entries).")
    validate.Length.message_equal = Msg("Enter exactly %(equal)s (characters or entries).")
    validate.Range.message_gte = Msg("at least")
    validate.Range.message_gt = Msg("more than")
    validate.Range.message_lte = Msg("at most")
    validate.Range.message_lt = Msg("less than")
    validate.Range.message_min = Msg("Must be %(min_op)s %(min)s.")
    validate.Range.message_max = Msg("Must be %(max_op)s %(max)s.")
    validate.Range.message_all = Msg("Must be %(min_op)s %(min)s and %(max_op)s %(max)s.")
    validate.OneOf.default_message = Msg("Choose one of: %(choices)s.")
    validate.ContainsOnly.default_message = Msg("Choose only from: %(choices)s.")
    validate.NoneOf.default_message = Msg("Invalid value.")
    validate.Equal.default_message = Msg("Must be %(other)s.")
    validate.Regexp.default_message = Msg("Invalid format.")
    validate.Email.default_message = Msg("Enter a valid e-mail address.")
    validate.URL.default_message = Msg("Enter a valid URL.")
    validate.Predicate.default_message = Msg("Invalid value.")


class Email(fields.String):
    """An e-mail address (marshmallow's ``fields.Email`` refuses message codes): text checked by
    ``validate.Email``, documented as ``format: email``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("format", "email")
        super().__init__(**kwargs)
        self.validators.insert(0, validate.Email())


def _wrap_messages() -> None:
    """``ValidationError(Msg(...))`` keeps a list of messages, as ``ValidationError("text")`` does
    (marshmallow wraps only ``str``; its ``And`` validator and error merging expect lists)."""
    original = ValidationError.__init__

    def __init__(self: ValidationError, message: Any, *args: Any, **kwargs: Any) -> None:
        original(self, [message] if isinstance(message, Msg) else message, *args, **kwargs)

    ValidationError.__init__ = __init__  # type: ignore[method-assign]


def _field_classes() -> list[type[fields.Field]]:
    seen: list[type[fields.Field]] = []
    stack: list[type[fields.Field]] = [fields.Field]
    while stack:
        cls = stack.pop()
        if cls not in seen:
            seen.append(cls)
            stack.extend(cls.__subclasses__())
    return seen


def _type_message(cls: type[fields.Field], key: str) -> str | None:
    for base in cls.__mro__:
        found = TYPE_MESSAGES.get(base, {}).get(key)  # type: ignore[call-overload]
        if found:
            return found
    return None
