"""The version of cladec, in one place (read by pyproject.toml and docs/conf.py)."""

__version__ = "0.1.0"
