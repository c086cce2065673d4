"""Who is calling: the request principal and the authentication classes that produce it."""
from .principal import Principal

__all__ = ["Principal"]
