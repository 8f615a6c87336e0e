"""engine: one inference engine for one model on one hardware platform.

The compile happens in a target configured *for* the platform (a transition on
`--platforms`), so toolchain resolution picks the backend and the execution
platform that can build it, and each platform's engines live in their own
configuration: changing one platform's definition rebuilds that platform's
engines only. The engine's action key is the model's bytes, the settings, the
compiler (with its runtime's exact version) and the hardware constraints, all
inputs or command-line arguments of the one compile action.

The public target re-exposes the files under bazel-bin/<package>/<out_dir>/,
the path devices pull from.
"""

load("//platforms:constraints.bzl", "ALL_CONSTRAINT_VALUES", "HARDWARE", "NONE", "hardware_tag")
load("//platforms:executors.bzl", "ExecutorsInfo")
load("//tools/bazel:python_tool_action.bzl", "run_python_tool")
load(":toolchains.bzl", "TOOLCHAIN_TYPE")

EngineInfo = provider(
    doc = "A compiled engine and its companions.",
    fields = {
        "engine": "the engine file",
        "file_name": "its self-describing name",
        "model": "the model part of its name",
        "out_dir": "the package-relative directory it is published under",
        "platform": "the label of the platform it was built for",
        "record": "its manifest record (JSON)",
        "sidecar": "its sha256 sidecar",
    },
)

_CPUS = ["@platforms//cpu:x86_64", "@platforms//cpu:aarch64"]

_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}

def platform_text(label):
    """A platform label as engines record it: `//platforms:host` for this repository's, else canonical.

    The engine macros write it into `platform_label`, and the rule compares it with the
    configuration's platform, so both sides go through this one function.

    Args:
      label: a Label.

    Returns:
      The label as a string.
    """
    return str(label).replace("@@//", "//")

def target_name(label):
    """The name part of a label string (`//engines:fleet.mlp.x` -> `fleet.mlp.x`)."""
    return label.rpartition(":")[2]

def _fail(ctx, message):
    fail("engine %s: %s" % (ctx.label, message))

def _hardware(ctx):
    """The target platform as {setting: value}, read back from its constraint values."""
    found = {}
    for target in ctx.attr._constraint_values + ctx.attr._cpus:
        if ctx.target_platform_has_constraint(target[platform_common.ConstraintValueInfo]):
            setting = "cpu" if target.label.package == "cpu" else target.label.package.split("/")[-1]
            found[setting] = target.label.name
    return found

def _dims(ctx, what, text):
    dims = []
    for part in text.split("x"):
        if not part.isdigit():
            _fail(ctx, "%s: '%s' is not a shape like 1x3x224x224" % (what, text))
        dims.append(int(part))
    return dims

def parse_profiles(ctx, profiles):
    """Parses and checks optimization profiles.

    Args:
      ctx: the rule context (for errors).
      profiles: ["input:1x64:8x64:32x64 mask:1x8:4x8:8x8", ...].

    Returns:
      [{input: {"min": [...], "opt": [...], "max": [...]}}, ...]
    """
    parsed = []
    for index, text in enumerate(profiles):
        shapes = {}
        for entry in text.split(" "):
            if not entry:
                continue
            parts = entry.split(":")
            what = "profiles[%d] '%s'" % (index, entry)
            if len(parts) != 4 or not parts[0]:
                _fail(ctx, "%s: expected <input>:<min>:<opt>:<max>, e.g. input:1x64:8x64:32x64" % what)
            lo, opt, hi = [_dims(ctx, what, shape) for shape in parts[1:]]
            if len(lo) != len(opt) or len(opt) != len(hi):
                _fail(ctx, "%s: min, opt and max have different ranks" % what)
            for axis in range(len(lo)):
                if not (lo[axis] <= opt[axis] and opt[axis] <= hi[axis]):
                    _fail(ctx, "%s: axis %d needs min <= opt <= max, got %d, %d, %d" % (what, axis, lo[axis], opt[axis], hi[axis]))
            if parts[0] in shapes:
                _fail(ctx, "%s: input '%s' appears twice in one profile" % (what, parts[0]))
            shapes[parts[0]] = {"max": hi, "min": lo, "opt": opt}
        if not shapes:
            _fail(ctx, "profiles[%d] is empty" % index)
        parsed.append(shapes)
    return parsed

def parse_workspace(ctx, text):
    """Parses a workspace size.

    Args:
      ctx: the rule context (for errors).
      text: '512MiB', '4GiB' or a byte count.

    Returns:
      The size in bytes.
    """
    if text.isdigit():
        return int(text)
    for unit, scale in _UNITS.items():
        number = text.removesuffix(unit)
        if number != text and number.isdigit():
            return int(number) * scale
    _fail(ctx, "workspace '%s': give bytes or a size like 512MiB / 4GiB" % text)
    return None

def _data_transition_impl(settings, _attr):
    # Models and caches are data, the same for every platform: build them (when
    # generated) once, in the host's configuration, not once per target platform.
    return {"//command_line_option:platforms": [settings["//command_line_option:host_platform"]]}

_data_transition = transition(
    implementation = _data_transition_impl,
    inputs = ["//command_line_option:host_platform"],
    outputs = ["//command_line_option:platforms"],
)

def _engine_build_impl(ctx):
    hardware = _hardware(ctx)
    platform = ctx.attr.platform_label
    toolchain = ctx.toolchains[TOOLCHAIN_TYPE]
    if toolchain == None:
        if platform_text(ctx.fragments.platform.platform) != platform:
            # Analysed outside its engine's configuration (`bazel cquery //pkg:all` lists
            # manual targets too): there is nothing to compile for this platform.
            return [DefaultInfo()]
        _fail(ctx, "no engine compiler serves platform %s (it has %s): kiln compiles for a CPU with an ONNX Runtime release (%s) or a GPU with a TensorRT version of //platforms:constraints.bzl" % (
            platform,
            hardware,
            ", ".join(HARDWARE["onnxruntime"]),
        ))
    compiler = toolchain.compiler
    tag = hardware_tag(hardware)
    if tag == None:
        _fail(ctx, "platform %s names neither a GPU with a TensorRT version nor a CPU ISA level with an ONNX Runtime version (it has %s)" % (platform, hardware))
    if ctx.attr.precision not in compiler.precisions:
        _fail(ctx, "precision '%s' is not built by the %s backend that serves %s; use one of %s" % (
            ctx.attr.precision,
            compiler.backend,
            platform,
            ", ".join(compiler.precisions),
        ))
    if not compiler.tensorrt_settings:
        for setting in ("workspace", "calibration_cache", "timing_cache"):
            if getattr(ctx.attr, setting):
                _fail(ctx, "%s is a TensorRT builder setting, but %s is built by %s; set it on GPU platforms only" % (setting, platform, compiler.backend))
    profiles = parse_profiles(ctx, ctx.attr.profiles)

    model_name = ctx.attr.model_name or ctx.file.model.basename.removesuffix(".onnx")
    file_name = "%s__%s_%s.%s" % (model_name, tag, ctx.attr.precision, compiler.extension)
    out_dir = ctx.attr.out_dir
    engine = ctx.actions.declare_file("%s/%s" % (out_dir, file_name))
    sidecar = ctx.actions.declare_file("%s/%s.sha256" % (out_dir, file_name))
    record = ctx.actions.declare_file("%s/%s.json" % (out_dir, file_name))

    args = ctx.actions.args()
    args.add("--model", ctx.file.model)
    args.add("--model-name", model_name)
    args.add("--platform", platform)
    for setting in compiler.checks:
        args.add("--require", "%s=%s" % (setting, hardware.get(setting, NONE)))
    args.add("--precision", ctx.attr.precision)
    args.add("--profiles", json.encode(profiles))
    for key, value in sorted(ctx.attr.options.items()):
        args.add("--option", "%s=%s" % (key, value))
    inputs = [ctx.file.model]
    if ctx.attr.workspace:
        args.add("--workspace-bytes", str(parse_workspace(ctx, ctx.attr.workspace)))
    for flag, attr in (("--calibration-cache", "calibration_cache"), ("--timing-cache", "timing_cache")):
        cache = getattr(ctx.file, attr)
        if cache:
            args.add(flag, cache)
            inputs.append(cache)
    args.add("--tag", tag)
    args.add("--out", engine)
    args.add("--sidecar", sidecar)
    args.add("--record", record)

    run_python_tool(
        ctx,
        tool = compiler.compiler,
        arguments = [args],
        inputs = inputs,
        outputs = [engine, sidecar, record],
        mnemonic = "EngineCompile",
        progress_message = "Compiling %s for %s (%s)" % (model_name, platform, compiler.backend),
    )
    return [
        DefaultInfo(files = depset([engine, sidecar, record])),
        EngineInfo(engine = engine, sidecar = sidecar, record = record, file_name = file_name, model = model_name, out_dir = out_dir, platform = platform),
    ]

engine_build = rule(
    implementation = _engine_build_impl,
    attrs = {
        "calibration_cache": attr.label(allow_single_file = True, cfg = _data_transition),
        "executor": attr.string(doc = "The executor tag its compile needs (for engine_status); empty when kiln does not gate it."),
        "model": attr.label(mandatory = True, allow_single_file = [".onnx"], cfg = _data_transition),
        "model_name": attr.string(),
        "options": attr.string_dict(),
        "out_dir": attr.string(mandatory = True),
        "platform_label": attr.string(mandatory = True),
        "precision": attr.string(mandatory = True),
        "profiles": attr.string_list(),
        "timing_cache": attr.label(allow_single_file = True, cfg = _data_transition),
        "workspace": attr.string(),
        "_constraint_values": attr.label_list(default = ALL_CONSTRAINT_VALUES, providers = [platform_common.ConstraintValueInfo]),
        "_cpus": attr.label_list(default = _CPUS, providers = [platform_common.ConstraintValueInfo]),
    },
    fragments = ["platform"],
    # Optional, so that analysing the target outside its platform's configuration is
    # not an error, and a platform no compiler serves gets kiln's own message.
    toolchains = [config_common.toolchain_type(TOOLCHAIN_TYPE, mandatory = False)],
    doc = "Compiles one engine in the configuration of its target platform (see `engine`).",
)

def _to_platform_impl(_settings, attr):
    return {"//command_line_option:platforms": [str(attr.platform)]}

_to_platform = transition(
    implementation = _to_platform_impl,
    inputs = [],
    outputs = ["//command_line_option:platforms"],
)

def _published_engine_impl(ctx):
    info = ctx.attr.build[0][EngineInfo]
    published = {}
    for name, source in (("engine", info.engine), ("sidecar", info.sidecar)):
        link = ctx.actions.declare_file("%s/%s" % (info.out_dir, source.basename))
        ctx.actions.symlink(output = link, target_file = source)
        published[name] = link
    return [
        DefaultInfo(files = depset([published["engine"], published["sidecar"]])),
        EngineInfo(
            engine = published["engine"],
            sidecar = published["sidecar"],
            record = info.record,
            file_name = info.file_name,
            model = info.model,
            out_dir = info.out_dir,
            platform = info.platform,
        ),
    ]

published_engine = rule(
    implementation = _published_engine_impl,
    attrs = {
        "build": attr.label(mandatory = True, cfg = _to_platform, providers = [EngineInfo]),
        "platform": attr.label(mandatory = True),
    },
    doc = "The engine built for `platform`, published under this package's bazel-bin directory.",
)

def _engine_manifest_impl(ctx):
    infos = [target[EngineInfo] for target in ctx.attr.engines]
    out_dir, platform = ctx.attr.out_dir, ctx.attr.platform
    if not out_dir:
        directories = sorted({info.out_dir: None for info in infos}.keys())
        if len(directories) != 1:
            fail("engine_manifest %s: engines in %s; give out_dir to publish them in one directory" % (ctx.label, directories))
        out_dir = directories[0]
    if not platform:
        platforms = sorted({info.platform: None for info in infos}.keys())
        if len(platforms) != 1:
            fail("engine_manifest %s: engines for %s; give the platform (or device) the manifest is for" % (ctx.label, platforms))
        platform = platforms[0]

    # Engines built elsewhere (a class's directory) are published beside the manifest.
    published = []
    uses = {}
    for info in infos:
        if info.out_dir != out_dir:
            for source in (info.engine, info.sidecar):
                link = ctx.actions.declare_file("%s/%s" % (out_dir, source.basename))
                ctx.actions.symlink(output = link, target_file = source)
                published.append(link)
        uses.setdefault(info.model, []).append(info.file_name)
    manifest = ctx.actions.declare_file(out_dir + "/manifest.json")
    args = ctx.actions.args()
    args.add("--platform", platform)
    if ctx.attr.device:
        args.add("--device", json.encode({"hardware": ctx.attr.hardware, "name": ctx.attr.device, "uses": uses}))
    args.add("--out", manifest)
    args.add_all([info.record for info in infos])
    run_python_tool(
        ctx,
        tool = ctx.attr._tool,
        arguments = [args],
        inputs = [info.record for info in infos],
        outputs = [manifest],
        mnemonic = "EngineManifest",
        progress_message = "Writing the engine manifest for %s" % (ctx.attr.device or out_dir),
    )
    return [DefaultInfo(files = depset([manifest] + published))]

engine_manifest = rule(
    implementation = _engine_manifest_impl,
    attrs = {
        "device": attr.string(doc = "The device the manifest is for; its engines are listed in `uses`, preferred first."),
        "engines": attr.label_list(mandatory = True, allow_empty = False, providers = [EngineInfo]),
        "hardware": attr.string_dict(doc = "The device's hardware description."),
        "out_dir": attr.string(doc = "Where manifest.json goes; engines from other directories are published beside it."),
        "platform": attr.string(doc = "The platform label the manifest names; defaults to the engines' one platform."),
        "_tool": attr.label(default = "//engines:manifest", executable = True, cfg = "exec"),
    },
    doc = "manifest.json for one device's (or platform's) engines: model digest, settings, tool versions, engine digest, and for a device which engine it uses per model.",
)

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
        lines.append("counts for its own, or hardware named with --//platforms:executors=<tag> (a remote pool, or")
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

engine_status = rule(
    implementation = _engine_status_impl,
    attrs = {
        "devices": attr.string_list(doc = "target|device|executor tag,... per device target"),
        "engines": attr.string_list(doc = "target|platform|executor tag (empty when not gated) per engine"),
        "out": attr.output(mandatory = True),
        "_executors": attr.label(default = "//platforms:executors", providers = [ExecutorsInfo]),
    },
    doc = "Which of a package's engines this build can compile, and why the others are skipped.",
)
