"""Reference pages rendered by stardoc from public .bzl files, checked in and kept current.

In a package that holds the checked-in pages (docs/rules):

    load("//tools/docs:rule_docs.bzl", "rule_docs", "rule_docs_update")

    rule_docs(
        name = "engines",               # the page: docs/rules/engines.md
        src = "//engines:defs.bzl",
        deps = ["//engines:defs"],      # the bzl_library of src
    )

    rule_docs_update(name = "update")   # last: covers every rule_docs above

`bazel build :engines` renders the page, `:engines_test` fails while the checked-in
copy differs, and `bazel run :update` writes every rendered page over its copy.
"""

load("@rules_python//python:defs.bzl", "py_binary", "py_test")
load("@stardoc//stardoc:stardoc.bzl", "stardoc")

_TAG = "rule_docs"

def _update_label(update):
    """`update` as the user types it: `//pkg:name`."""
    if update.startswith(":"):
        return "//%s%s" % (native.package_name(), update)
    return update

def rule_docs(name, src, deps, symbol_names = [], update = ":update", visibility = None):
    """The page `<name>.md` for `src`, and `<name>_test`, which fails while the copy is stale.

    The page is stardoc's Markdown: the file's docstring, then each exported rule (with
    its attributes), provider (with its fields) and function or macro (with the
    parameters its docstring's `Args:` section describes). Labels read `@kiln//...`,
    as a module that uses kiln loads them.

    Args:
      name: the page's name: `<name>` renders `generated/<name>.md`, which is checked in
        as `<name>.md` beside the BUILD file.
      src: the .bzl file to document, e.g. `//engines:defs.bzl` (exported from its
        package).
      deps: bzl_library targets covering every file `src` loads, usually the one
        bzl_library whose srcs hold `src`.
      symbol_names: document only these exported symbols (default: all of them).
      update: the package's `rule_docs_update` target, named in the test's failure
        message.
      visibility: of the rendered page.
    """
    rendered = "generated/%s.md" % name
    stardoc(
        name = name,
        out = rendered,
        input = src,
        # The page is the same whether or not the build is stamped.
        stamp = 0,
        symbol_names = symbol_names,
        tags = [_TAG],
        visibility = visibility,
        deps = deps,
    )

    # The copy may not exist yet (a new page): the test then says how to create it.
    checked_in = native.glob([name + ".md"], allow_empty = True)
    page = "%s/%s.md" % (native.package_name(), name)
    tool = Label("//tools/docs:check_page.py")
    py_test(
        name = name + "_test",
        size = "small",
        srcs = [tool],
        main = tool,
        args = [
            "--rendered",
            "$(rootpath :%s)" % name,
            "--checked-in",
            page,
            "--update-target",
            _update_label(update),
        ],
        data = [":" + name] + checked_in,
    )

def rule_docs_update(name = "update"):
    """`bazel run :<name>` writes every page of this package's `rule_docs` into the source tree.

    Call it after the package's last `rule_docs`.

    Args:
      name: the target to `bazel run`.
    """
    pages = sorted([
        rule["name"]
        for rule in native.existing_rules().values()
        if rule["kind"] == "stardoc_markdown_renderer" and _TAG in rule["tags"]
    ])
    if not pages:
        fail("rule_docs_update(name = %r): no rule_docs before it in this package" % name)
    tool = Label("//tools/docs:update.py")
    py_binary(
        name = name,
        srcs = [tool],
        main = tool,
        args = [
            "$(rootpath :%s)=%s/%s.md" % (page, native.package_name(), page)
            for page in pages
        ],
        data = [":" + page for page in pages],
    )
