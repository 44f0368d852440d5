"""Exceptions whose message is meant for the user (in Chinese) and says what to do."""


class ReformKBError(Exception):
    """Base class: the message is shown to the user as it is."""


class InputError(ReformKBError):
    """The input (text, file, query, field) cannot be accepted; nothing was stored."""


class NotFoundError(ReformKBError):
    """A record, region or file that was asked for does not exist."""


class StoreError(ReformKBError):
    """The knowledge-base database is unusable (not a reformkb database, newer schema, ...)."""


class ModelError(ReformKBError):
    """The embedding model cannot be found or loaded."""


class AuthError(ReformKBError, PermissionError):
    """A change was asked for without a valid editor sign-in (see :mod:`reformkb.auth`); nothing changed."""
