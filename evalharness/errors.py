"""The base of every error whose message is complete for a user: what is wrong, how to fix it.

The CLI prints such errors as one line and exits non-zero; anything else is a crash and keeps its
traceback.
"""


class EvalharnessError(Exception):
    """A user-facing error: the message says what is wrong and what to do."""
