"""Domain logic callable from web, channels and jobs alike. No Flask imports here."""


class DomainError(Exception):
    """A rule was broken; `message` is a translatable (lazy) string for the person."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field
