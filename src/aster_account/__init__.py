"""aster-account: the Aster Futures account API, as a self-hostable server and a Python SDK."""

__version__ = "0.1.0"

__all__ = ["__version__"]
