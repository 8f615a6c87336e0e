"""library_tools: the pipeline's Python tools, built against one library's pip hub."""

load("@rules_python//python:defs.bzl", "py_binary")

_ENTRY_POINTS = {
    "dynamic_miner": Label("//miners/dynamic:__main__.py"),
    "gate": Label("//corpus:gate.py"),
    "lift_miner": Label("//miners/lifts:__main__.py"),
    "static_miner": Label("//miners/static:__main__.py"),
}

_LIBRARIES = {
    "dynamic_miner": [Label("//miners/dynamic")],
    "gate": [Label("//corpus:gate_lib")],
    "lift_miner": [Label("//miners/lifts")],
    "static_miner": [Label("//miners/static")],
}

def library_tools(requirements, suffix = "", visibility = None):
    """Declares the miners and the gate as py_binaries running in one library's environment.

    The binaries are `static_miner`, `dynamic_miner`, `lift_miner` and `gate`, each
    followed by `suffix`.

    Args:
      requirements: every package of the library's hub (`all_requirements` of
        `@pypi_<library>_<version>//:requirements.bzl`): the tools run in the library's
        own environment, as its users do.
      suffix: appended to every name (`_5.23.0`: one set of tools per library version).
      visibility: of the generated binaries.
    """
    for name, entry in _ENTRY_POINTS.items():
        py_binary(
            name = name + suffix,
            srcs = [entry],
            main = entry,
            deps = _LIBRARIES[name] + requirements,
            visibility = visibility,
        )
