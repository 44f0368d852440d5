"""reformkb: a knowledge base of benchmark reform practices (营商环境标杆经验).

The public API is :class:`reformkb.kb.KnowledgeBase`; everything else is an implementation detail
used through it.
"""
from reformkb.errors import ReformKBError

__all__ = ["ReformKBError", "KnowledgeBase"]
__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy so that `import reformkb` stays cheap (the facade pulls in torch on first search).
    if name == "KnowledgeBase":
        from reformkb.kb import KnowledgeBase

        return KnowledgeBase
    raise AttributeError(name)
