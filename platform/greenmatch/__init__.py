"""GreenMatch: green industrial project catalogue and green-finance matchmaking."""

from . import validation

validation.install()  # before any schema is defined: its fields copy marshmallow's default messages

from .app import create_app  # noqa: E402

__all__ = ["create_app"]
__version__ = "0.1.0"
