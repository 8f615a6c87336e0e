"""engine_status: which of a package's engines this build can compile, and why the others are skipped."""

# buildifier: disable=bzl-visibility
load("//platforms/private:executors.bzl", "ExecutorsInfo")
load(":labels.bzl", "target_name")

def _engine_status_impl(ctx):
    executors = ctx.attr._executors[ExecutorsInfo]
    available = {tag: True for tag in executors.tags}
    lines = [
        "Engines of //%s. Executors: this host (%s)%s." % (
            ctx.label.package,
            ", ".join(executors.host) or "no known hardware",
            "; named: " + ", ".join(executors.named) if executors.named else "",
        ),
        "",
    ]
    skipped, total = {}, 0
    for entry in ctx.attr.engines:
        target, platform, tag = entry.split("|")
        total += 1
        if tag and tag not in available:
            skipped.setdefault(tag, []).append(target)
            lines.append("skipped  %s  (%s: no executor for %s)" % (target, platform, tag))
        else:
            lines.append("builds   %s  (%s)" % (target, platform))
    if ctx.attr.devices:
        lines.append("")
    skipped_devices = 0
    for entry in ctx.attr.devices:
        target, device, tags = entry.split("|")
        missing = [tag for tag in tags.split(",") if tag and tag not in available]
        if missing:
            skipped_devices += 1
            lines.append("skipped  %s  (device %s: no executor for %s)" % (target, device, ", ".join(missing)))
        else:
            lines.append("builds   %s  (device %s)" % (target, device))
    if skipped:
        lines.append("")
        lines.append("An engine builds only where an executor for its hardware exists: this host, which always")
        lines.append("counts for its own, or hardware named with --@kiln//platforms:executors=<tag> (a remote pool, or")
        lines.append("another local device). A device's targets build when all its engines do.")

        # Bazel says only "was skipped" for incompatible targets; this says why.
        count = 0
        for targets in skipped.values():
            count += len(targets)
        summary = ["%d of %d engines skipped here (no executor for their hardware), and %d devices; see bazel-bin/%s" % (
            count,
            total,
            skipped_devices,
            ctx.outputs.out.short_path,
        )]
        for tag in sorted(skipped):
            summary.append("  no executor for %s: %s" % (tag, ", ".join([target_name(target) for target in skipped[tag]])))

        # buildifier: disable=print
        print("\n".join(summary))
    ctx.actions.write(ctx.outputs.out, "\n".join(lines) + "\n")
    return [DefaultInfo(files = depset([ctx.outputs.out]))]

_engine_status = rule(
    implementation = _engine_status_impl,
    attrs = {
        "devices": attr.string_list(doc = "target|device|executor tag,... per device target"),
        "engines": attr.string_list(doc = "target|platform|executor tag (empty when not gated) per engine"),
        "out": attr.output(mandatory = True),
        "_executors": attr.label(default = "//platforms:executors", providers = [ExecutorsInfo]),
    },
    doc = "Which of a package's engines this build can compile, and why the others are skipped.",
)

def engine_status(name = "status"):
    """Call last in a BUILD file: `<name>.txt` lists the package's engines and devices, built or skipped and why.

    Building it prints a summary of what is skipped, by missing executor.

    Args:
      name: the target; its output is `<name>.txt`.
    """
    rules = native.existing_rules()
    engines, devices = [], []
    for rule in rules.values():
        if rule["kind"] == "engine_build":
            engines.append("//%s:%s|%s|%s" % (
                native.package_name(),
                rule["name"].removesuffix(".build"),
                rule["platform_label"],
                rule["executor"],
            ))
        elif rule["kind"] == "engine_manifest" and rule["device"]:
            needed = {}
            for engine_label in rule["engines"]:
                build = rules.get(target_name(str(engine_label)) + ".build")
                if build and build["executor"]:
                    needed[build["executor"]] = True
            devices.append("//%s:%s|%s|%s" % (
                native.package_name(),
                rule["name"].removesuffix(".manifest"),
                rule["device"],
                ",".join(sorted(needed)),
            ))
    _engine_status(
        name = name,
        engines = sorted(engines),
        devices = sorted(devices),
        out = name + ".txt",
    )
