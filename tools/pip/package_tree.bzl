"""package_tree: files at their repository paths under one directory, for a wheel to pack.

The kiln-check wheel holds the checker's modules and every checked-in corpus at their paths
in kiln's repository, under `kiln_check/`. Where `copy_file` needs one target per file
written out in the BUILD file, this rule derives each output's path from its input's, so a
filegroup of globbed files (every corpus version) needs no edit when a file is added.
"""

def _repository_path(file):
    """A file's path inside its own repository, main or external."""
    if file.short_path.startswith("../"):
        return file.short_path[len("../"):].partition("/")[2]
    return file.short_path

def _package_tree_impl(ctx):
    outputs = []
    placed = {}

    def place(src, path):
        if path in placed:
            fail("%s and %s both go to %s/%s" % (placed[path], src.short_path, ctx.attr.prefix, path))
        placed[path] = src.short_path
        out = ctx.actions.declare_file("%s/%s" % (ctx.attr.prefix, path))
        ctx.actions.symlink(output = out, target_file = src)
        outputs.append(out)

    for src in ctx.files.srcs:
        place(src, _repository_path(src))
    for target, path in ctx.attr.renames.items():
        files = target.files.to_list()
        if len(files) != 1:
            fail("renames: %s must be one file, not %d" % (target.label, len(files)))
        place(files[0], path)
    return [DefaultInfo(files = depset(outputs))]

package_tree = rule(
    implementation = _package_tree_impl,
    doc = "`srcs` at `<prefix>/<their repository path>`, and each of `renames` at `<prefix>/<its path>`.",
    attrs = {
        "prefix": attr.string(
            mandatory = True,
            doc = "The directory, under this package, the files go in.",
        ),
        "renames": attr.label_keyed_string_dict(
            allow_files = True,
            doc = "Files placed at another path than their own: {file: path under prefix}.",
        ),
        "srcs": attr.label_list(
            allow_files = True,
            doc = "Files placed at their repository paths; filegroups of globs are welcome.",
        ),
    },
)
