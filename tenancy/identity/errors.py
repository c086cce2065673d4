"""Authentication failures: always 401 in the envelope, with a message saying what is wrong."""
from rest_framework import exceptions


class AuthFailed(exceptions.AuthenticationFailed):
    """401 with a specific, non-leaky reason."""
