"""leaps_mm's version, stated once: pyproject.toml reads it (setuptools'
``attr:``, evaluated statically, so building never imports leaps_mm) and
``leaps_mm.__version__`` re-exports it."""
__version__ = '0.1.0'
