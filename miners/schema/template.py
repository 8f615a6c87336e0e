"""Message templates: a library message's static text, with `{}` where it varies.

Literal braces are doubled, as in `str.format`. A message matches a template
when it contains the template's static pieces in order, so a template keeps
matching when only the interpolated values change.
"""

from __future__ import annotations

import re

PLACEHOLDER = "{}"


def static_pieces(template: str) -> list[str]:
    """The literal runs of a template (braces unescaped), in order."""
    pieces, current, i = [], [], 0
    while i < len(template):
        pair = template[i : i + 2]
        if pair in ("{{", "}}"):
            current.append(pair[0])
            i += 2
        elif pair == PLACEHOLDER:
            pieces.append("".join(current))
            current = []
            i += 2
        else:
            current.append(template[i])
            i += 1
    pieces.append("".join(current))
    return [p for p in pieces if p]


def matches(template: str, message: str) -> bool:
    """Whether a message contains the template's static pieces, in order."""
    pattern = ".*?".join(re.escape(p) for p in static_pieces(template))
    return re.search(pattern, message, flags=re.DOTALL) is not None


def placeholder_texts(template: str, message: str) -> list[str] | None:
    """What a message has where the template has `{}`, in order; None when it does not match.

    Each `{}` takes the shortest text up to the next static piece; a trailing `{}` takes the rest."""
    parts, current, i = [], [], 0
    while i < len(template):
        pair = template[i : i + 2]
        if pair in ("{{", "}}"):
            current.append(re.escape(pair[0]))
            i += 2
        elif pair == PLACEHOLDER:
            parts.append("".join(current))
            current = []
            i += 2
        else:
            current.append(re.escape(template[i]))
            i += 1
    parts.append("".join(current))
    if len(parts) == 1:
        return []
    pattern = "(.*?)".join(parts[:-1]) + ("(.*)" if not parts[-1] else "(.*?)" + parts[-1])
    found = re.search(pattern, message, flags=re.DOTALL)
    return list(found.groups()) if found else None
