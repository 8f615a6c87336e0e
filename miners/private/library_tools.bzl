"""library_tools: the pipeline's Python tools, built against one library's pip hub."""

load("@rules_python//python:defs.bzl", "py_binary")

_ENTRY_POINTS = {
    "gate": Label("//corpus:gate.py"),
    "static_miner": Label("//miners/static:__main__.py"),
}

_LIBRARIES = {
    "gate": [Label("//corpus:gate_lib")],
    "static_miner": [Label("//miners/static")],
}

def library_tools(requirements, visibility = None):
    """Declares `static_miner` and `gate` py_binaries running against one library's environment.

    Args:
      requirements: every package of the library's hub (`all_requirements` of
        `@pypi_<library>//:requirements.bzl`): the tools run in the library's
        own environment, as its users do.
      visibility: of the generated binaries.
    """
    for name, entry in _ENTRY_POINTS.items():
        py_binary(
            name = name,
            srcs = [entry],
            main = entry,
            deps = _LIBRARIES[name] + requirements,
            visibility = visibility,
        )
