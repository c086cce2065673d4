"""Reading the envelope's ``message``: a list of ``"<field>: <problem>"`` strings for invalid
input (upstream's shape), a string for every other error."""


def message_text(body: dict) -> str:
    """The message as one string, whichever shape it has."""
    message = body["message"]
    return "; ".join(message) if isinstance(message, list) else message
