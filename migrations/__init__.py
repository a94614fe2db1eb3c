"""Alembic migrations, shipped inside the package as ``greenmatch.migrations`` so an installed wheel can
create and upgrade its database (``greenmatch db upgrade``); ``greenmatch.app`` finds this folder by import."""
