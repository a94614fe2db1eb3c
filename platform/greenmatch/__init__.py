"""GreenMatch: green industrial project catalogue and green-finance matchmaking."""

from .app import create_app

__all__ = ["create_app"]
__version__ = "0.1.0"
