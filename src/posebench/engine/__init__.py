"""PoseBench engine layer (see posebench/__init__.py for the layer order)."""
