"""py_wheel: rules_python's wheel rule, with the project's wheelmaker.

Debian's rules_python 0.22.1 package leaves out `@rules_python//tools:wheelmaker`, the
program rules_python's `py_wheel` runs, so that rule cannot build here. This one is the
same rule (its implementation and attributes, hence the same metadata, file names and
entry points) with `//tools/pip:wheelmaker` as the program.
"""

# rules_python's public packaging.bzl fixes the wheelmaker; its implementation is only in private/.
# buildifier: disable=bzl-visibility
load("@rules_python//python/private:py_wheel.bzl", "py_wheel_lib")

py_wheel = rule(
    implementation = py_wheel_lib.implementation,
    doc = "A wheel of `deps`' files, as rules_python's `py_wheel` (0.22.1) builds it.",
    attrs = dict(
        py_wheel_lib.attrs,
        _wheelmaker = attr.label(
            default = Label("//tools/pip:wheelmaker"),
            executable = True,
            cfg = "exec",
        ),
    ),
)
