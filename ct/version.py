"""The ct version (one place: the package, setup.py and training records read it)."""

__version__ = "0.1.0"
