"""Message classes: messages that differ only in the values they quote are one class.

Numbers become `{}`, and so do the strings the probe used; what remains is
the library's static text, which is both the class key and the rule's
message template.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e-?\d+)?(?!\w)")


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def template(message: str, probe_strings: Iterable[str]) -> str:
    """The class key of a message: numbers and the cluster's probe strings become `{}`.

    All of the cluster's string values are replaced, not only the probed row's,
    so a message that lists valid values (some of which another field happens
    to hold) falls in one class whatever the row.
    """
    text = _escape(message)
    for value in sorted((v for v in set(probe_strings) if len(v) >= 3), key=len, reverse=True):
        text = text.replace(_escape(value), "\0")
    text = _NUMBER.sub("\0", text)
    return re.sub("\0+", "{}", text)
