"""The hardware vocabulary: one constraint_setting per property an engine depends on.

Each setting lives in its own package (`//platforms/<setting>:<value>`), so a
constraint value's label says both what it constrains and its value, and rules
can turn a platform back into a hardware description (engines/private/engine.bzl).
Every setting defaults to `none`: a CPU platform has no GPU, a datacenter GPU has
no JetPack, an engine that is not tied to an ISA level has no `cpu_isa`.

A hardware description is a dict {setting: value} plus "cpu" (the architecture,
x86_64 or aarch64); settings it does not name are `none`.
"""

HARDWARE = {
    # CUDA compute capability of the GPU.
    "gpu_sm": ["sm_72", "sm_75", "sm_80", "sm_86", "sm_87", "sm_89", "sm_90", "sm_100", "sm_101", "sm_110", "sm_120"],
    # Jetson board support package; it does not pin TensorRT (newer TensorRT
    # tarballs install on JetPack 6), so the two are separate settings.
    "jetpack": ["5.1", "6.0", "6.1", "6.2", "7.0"],
    # TensorRT major.minor: a plan runs only on the version that built it, unless
    # it is version-compatible (then on that version and later ones).
    "tensorrt": ["8.5", "8.6", "10.3", "10.7", "10.13"],
    # Which GPUs a plan runs on besides the one that built it (TensorRT's
    # HardwareCompatibilityLevel): `none` (TensorRT's default), every GPU of the same
    # compute capability, or every Ampere and later GPU (sm_80+). Not on Jetson.
    "tensorrt_hardware_compatibility": ["same_compute_capability", "ampere_plus"],
    # `forward`: a version-compatible plan (BuilderFlag.VERSION_COMPATIBLE), which runs
    # on the TensorRT version that built it and on later ones.
    "tensorrt_version_compatible": ["forward"],
    # CPU instruction-set level: the x86-64 psABI levels, and the Arm profiles.
    # ONNX Runtime's layout optimizations depend on it; `none` is an engine that
    # runs on every CPU of its architecture.
    "cpu_isa": ["x86-64-v2", "x86-64-v3", "x86-64-v4", "armv8-a", "armv8.2-a"],
    # ONNX Runtime major.minor: optimized models may use its contrib operators.
    "onnxruntime": ["1.22", "1.32"],
}

NONE = "none"

# CPU architectures (@platforms//cpu) and, per ISA level, the architecture it belongs to.
CPUS = ["aarch64", "x86_64"]
ISA_ARCH = {
    "armv8-a": "aarch64",
    "armv8.2-a": "aarch64",
    "x86-64-v2": "x86_64",
    "x86-64-v3": "x86_64",
    "x86-64-v4": "x86_64",
}

# REAPI platform property per hardware setting, for actions that need that hardware.
_PROPERTY_KEYS = (
    ("cpu_isa", "isa_level"),
    ("gpu_sm", "gpu_sm"),
    ("jetpack", "jetpack"),
    ("tensorrt", "tensorrt"),
    ("tensorrt_hardware_compatibility", "gpu_compat"),
)

def constraint_value_label(setting, value):
    return Label("//platforms/%s:%s" % (setting, value))

ALL_CONSTRAINT_VALUES = [
    constraint_value_label(setting, value)
    for setting, values in HARDWARE.items()
    for value in values + [NONE]
]

def declare_hardware_setting(name):
    """In //platforms/<setting>/BUILD.bazel: the setting and its values (default `none`).

    Args:
      name: the setting, a key of HARDWARE.
    """
    setting = name
    native.constraint_setting(
        name = setting,
        default_constraint_value = ":" + NONE,
        visibility = ["//visibility:public"],
    )
    for value in HARDWARE[setting] + [NONE]:
        native.constraint_value(
            name = value,
            constraint_setting = ":" + setting,
            visibility = ["//visibility:public"],
        )

def constraint_values(hardware):
    """The constraint values of a platform with this hardware: OS, CPU and every setting it names.

    Args:
      hardware: a hardware description.

    Returns:
      A list of labels.
    """
    values = ["@platforms//os:linux", "@platforms//cpu:" + hardware["cpu"]]
    for setting in sorted(hardware):
        if setting != "cpu" and hardware[setting] != NONE:
            values.append(constraint_value_label(setting, hardware[setting]))
    return values

def exec_properties(hardware):
    """REAPI platform properties for an execution platform with this hardware.

    The same hardware gets the same properties wherever the platform is declared,
    so an action's key does not depend on which runner sent it: every runner
    sends {OSFamily, arch} for ordinary actions and portable engine compiles, adds
    isa_level for ISA-tied compiles (not REAPI's `ISA`, which buildbox's runners read
    as the instruction set: x86-64, aarch64), and gpu_sm/jetpack/tensorrt (or gpu_compat for a
    compatibility class) for GPU compiles. Workers advertise the keys of what they
    are (tools/remote/).

    Args:
      hardware: a hardware description.

    Returns:
      {property: value}.
    """
    properties = {"OSFamily": "linux", "arch": hardware["cpu"]}
    for setting, key in _PROPERTY_KEYS:
        if hardware.get(setting, NONE) != NONE:
            properties[key] = hardware[setting]
    return properties

def _sm_number(sm):
    return int(sm.removeprefix("sm_"))

def _gpu_tag(hardware):
    """`sm87_jp6.2_trt10.3`, `sm80+_trt10.13` (every Ampere and later GPU), `..._trt10.13+` (version-compatible)."""
    if hardware.get("tensorrt_hardware_compatibility", NONE) == "ampere_plus":
        parts = ["sm80+"]
    else:
        parts = [hardware["gpu_sm"].replace("_", "")]
    if hardware.get("jetpack", NONE) != NONE:
        parts.append("jp" + hardware["jetpack"])
    trt = "trt" + hardware["tensorrt"]
    if hardware.get("tensorrt_version_compatible", NONE) == "forward":
        trt += "+"
    parts.append(trt)
    return "_".join(parts)

def hardware_tag(hardware):
    """The hardware part of an engine's file name: the hardware it runs on, from {setting: value}.

    GPU: `sm87_jp6.2_trt10.3` (no `jp` off Jetson), `sm80+_trt10.13` for an Ampere-plus
    plan, a trailing `+` on the TensorRT version for a version-compatible one. CPU:
    `x86-64-v4_ort1.32` (tied to that ISA level), `x86_64_ort1.32` (any x86-64 CPU).

    Args:
      hardware: a hardware description.

    Returns:
      The tag, or None when the description names no backend runtime.
    """
    if hardware.get("gpu_sm", NONE) != NONE:
        if hardware.get("tensorrt", NONE) == NONE:
            return None
        return _gpu_tag(hardware)
    if hardware.get("onnxruntime", NONE) == NONE:
        return None
    isa = hardware.get("cpu_isa", NONE)
    return "%s_ort%s" % (hardware["cpu"] if isa == NONE else isa, hardware["onnxruntime"])

def executor_tag(hardware):
    """The hardware an executor must be to build an engine for this description.

    * a portable CPU engine: any CPU of the architecture (`x86_64`);
    * an ISA-tied CPU engine: exactly that ISA level (`x86-64-v3`);
    * a TensorRT plan: that GPU with that TensorRT (`sm87_jp6.2_trt10.3`), or for an
      Ampere-plus plan any Ampere or later GPU with that TensorRT (`sm80+_trt10.13`).
      A version-compatible plan needs the same executor as any other: its
      TensorRT is the minimum it runs on.

    Args:
      hardware: a hardware description.

    Returns:
      The executor tag.
    """
    if hardware.get("gpu_sm", NONE) != NONE:
        return _gpu_tag(dict(hardware, tensorrt_version_compatible = NONE))
    if hardware.get("cpu_isa", NONE) != NONE:
        return hardware["cpu_isa"]
    return hardware["cpu"]

def _parse_gpu_tag(tag):
    """{gpu_sm, jetpack, tensorrt, ampere_plus} of a GPU executor tag, or a string saying what is wrong."""
    parts = tag.split("_")
    if len(parts) not in (2, 3) or not parts[0].startswith("sm") or not parts[-1].startswith("trt"):
        return "'%s' is not a GPU tag like sm87_jp6.2_trt10.3, sm90_trt10.13 or sm80+_trt10.13" % tag
    sm = parts[0].removeprefix("sm")
    ampere_plus = sm.endswith("+")
    sm = "sm_" + sm.removesuffix("+")
    jetpack = parts[1].removeprefix("jp") if len(parts) == 3 else NONE
    tensorrt = parts[-1].removeprefix("trt")
    if len(parts) == 3 and not parts[1].startswith("jp"):
        return "'%s': the middle part names the JetPack, like jp6.2" % tag
    for setting, value in (("gpu_sm", sm), ("jetpack", jetpack), ("tensorrt", tensorrt)):
        if value != NONE and value not in HARDWARE[setting]:
            return "'%s': %s %s is not in kiln's hardware vocabulary (known: %s)" % (tag, setting, value, ", ".join(HARDWARE[setting]))
    if ampere_plus and (sm != "sm_80" or jetpack != NONE):
        return "'%s': the Ampere-plus class is written sm80+_trt<version> (it is not supported on Jetson)" % tag
    return {"ampere_plus": ampere_plus, "gpu_sm": sm, "jetpack": jetpack, "tensorrt": tensorrt}

def check_executor_tag(tag):
    """Whether `tag` names hardware an executor can be.

    Args:
      tag: a CPU architecture, an ISA level or a GPU tag.

    Returns:
      None, or what is wrong with it.
    """
    if tag in CPUS or tag in ISA_ARCH:
        return None
    if tag.startswith("sm"):
        parsed = _parse_gpu_tag(tag)
        return parsed if type(parsed) == "string" else None
    return "'%s' is not an executor tag: give a CPU architecture (%s), an ISA level (%s) or a GPU tag like sm87_jp6.2_trt10.3" % (
        tag,
        ", ".join(CPUS),
        ", ".join(sorted(ISA_ARCH)),
    )

def executor_provides(tag):
    """The executor tags an executor of hardware `tag` satisfies, `tag` first.

    An ISA level also builds the portable engines of its architecture; a GPU with
    sm >= 80 (not a Jetson) also builds Ampere-plus plans for its TensorRT.

    Args:
      tag: a valid executor tag (check_executor_tag).

    Returns:
      A list of executor tags.
    """
    if tag in ISA_ARCH:
        return [tag, ISA_ARCH[tag]]
    if not tag.startswith("sm"):
        return [tag]
    parsed = _parse_gpu_tag(tag)
    if not parsed["ampere_plus"] and parsed["jetpack"] == NONE and _sm_number(parsed["gpu_sm"]) >= 80:
        return [tag, "sm80+_trt" + parsed["tensorrt"]]
    return [tag]

def executor_providers(tag):
    """The hardware tags whose executors satisfy executor tag `tag` (the inverse of executor_provides).

    Args:
      tag: a valid executor tag.

    Returns:
      A sorted list of hardware tags, `tag` among them.
    """
    if tag in CPUS:
        return sorted([tag] + [level for level, arch in ISA_ARCH.items() if arch == tag])
    if tag.startswith("sm80+_"):
        trt = tag.removeprefix("sm80+_trt")
        return sorted([tag] + [
            "%s_trt%s" % (sm.replace("_", ""), trt)
            for sm in HARDWARE["gpu_sm"]
            if _sm_number(sm) >= 80
        ])
    return [tag]

def host_executor_tags(host):
    """The executor tags this host satisfies, from its probed hardware (@host_hardware's HOST).

    Args:
      host: {"cpu", "cpu_isa", "gpu_sm", "jetpack", "tensorrt"}, `none` where absent.

    Returns:
      A sorted list of executor tags.
    """
    tags = {host["cpu"]: True} if host["cpu"] in CPUS else {}
    if host.get("cpu_isa", NONE) != NONE:
        for tag in executor_provides(host["cpu_isa"]):
            tags[tag] = True
    if host.get("gpu_sm", NONE) != NONE and host.get("tensorrt", NONE) != NONE:
        for tag in executor_provides(executor_tag(host)):
            tags[tag] = True
    return sorted(tags)

def exec_hardware(tag, cpu = None):
    """The hardware description of an execution platform that is executor `tag`.

    Args:
      tag: a valid executor tag.
      cpu: for GPU tags, the CPU architecture of the machines carrying that GPU
        (defaults to aarch64 on Jetson, x86_64 elsewhere).

    Returns:
      A hardware description.
    """
    if tag in CPUS:
        return {"cpu": tag}
    if tag in ISA_ARCH:
        return {"cpu": ISA_ARCH[tag], "cpu_isa": tag}
    parsed = _parse_gpu_tag(tag)
    hardware = {"cpu": cpu or ("aarch64" if parsed["jetpack"] != NONE else "x86_64"), "tensorrt": parsed["tensorrt"]}
    if parsed["ampere_plus"]:
        hardware["tensorrt_hardware_compatibility"] = "ampere_plus"
    else:
        hardware["gpu_sm"] = parsed["gpu_sm"]
        hardware["jetpack"] = parsed["jetpack"]
    return hardware
