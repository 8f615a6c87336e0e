"""Parsing of the engine settings users write as text: optimization profiles, workspace sizes.

Pure: each returns (value, None) or (None, what is wrong), so the rule reports
errors with its own label and the unit tests (profiles_test.bzl) see the message.
"""

_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}

def _dims(text):
    dims = []
    for part in text.split("x"):
        if not part.isdigit():
            return None
        dims.append(int(part))
    return dims

def _parse_profile(index, text):
    shapes = {}
    for entry in text.split(" "):
        if not entry:
            continue
        parts = entry.split(":")
        what = "profiles[%d] '%s'" % (index, entry)
        if len(parts) != 4 or not parts[0]:
            return None, "%s: expected <input>:<min>:<opt>:<max>, e.g. input:1x64:8x64:32x64" % what
        dims = []
        for shape in parts[1:]:
            parsed = _dims(shape)
            if parsed == None:
                return None, "%s: '%s' is not a shape like 1x3x224x224" % (what, shape)
            dims.append(parsed)
        lo, opt, hi = dims
        if len(lo) != len(opt) or len(opt) != len(hi):
            return None, "%s: min, opt and max have different ranks" % what
        for axis in range(len(lo)):
            if not (lo[axis] <= opt[axis] and opt[axis] <= hi[axis]):
                return None, "%s: axis %d needs min <= opt <= max, got %d, %d, %d" % (what, axis, lo[axis], opt[axis], hi[axis])
        if parts[0] in shapes:
            return None, "%s: input '%s' appears twice in one profile" % (what, parts[0])
        shapes[parts[0]] = {"max": hi, "min": lo, "opt": opt}
    if not shapes:
        return None, "profiles[%d] is empty" % index
    return shapes, None

def parse_profiles(profiles):
    """Parses and checks optimization profiles.

    Args:
      profiles: ["input:1x64:8x64:32x64 mask:1x8:4x8:8x8", ...]: per profile, per
        input, its min, opt and max shapes.

    Returns:
      ([{input: {"min": [...], "opt": [...], "max": [...]}}, ...], None), or
      (None, what is wrong).
    """
    parsed = []
    for index, text in enumerate(profiles):
        shapes, problem = _parse_profile(index, text)
        if problem:
            return None, problem
        parsed.append(shapes)
    return parsed, None

def parse_workspace(text):
    """Parses a TensorRT workspace size.

    Args:
      text: '512MiB', '4GiB' or a byte count.

    Returns:
      (the size in bytes, None), or (None, what is wrong).
    """
    if text.isdigit():
        return int(text), None
    for unit, scale in _UNITS.items():
        number = text.removesuffix(unit)
        if number != text and number.isdigit():
            return int(number) * scale, None
    return None, "workspace '%s': give bytes or a size like 512MiB / 4GiB" % text
