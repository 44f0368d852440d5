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


class ImportCancelled(ReformKBError):
    """The person importing cancelled while the file was being read, recognised or parsed; nothing was stored."""

    def __init__(self, message: str = "导入已取消：没有保存任何内容，知识库没有任何变化。需要时请重新导入。"):
        super().__init__(message)
