"""engine_build: one inference engine for one model on one hardware platform (the rule behind `engine`).

The compile happens in a target configured *for* the platform (a transition on
`--platforms`), so toolchain resolution picks the backend and the execution
platform that can build it, and each platform's engines live in their own
configuration: changing one platform's definition rebuilds that platform's
engines only. The engine's action key is the model's bytes, the settings, the
compiler (with its runtime's exact version) and the hardware constraints, all
inputs or command-line arguments of the one compile action.

The public target (published_engine.bzl) re-exposes the files under
bazel-bin/<package>/<out_dir>/, the path devices pull from.
"""

# buildifier: disable=bzl-visibility
load("//platforms/private:constraints.bzl", "ALL_CONSTRAINT_VALUES", "HARDWARE", "NONE", "hardware_tag")
load("//tools/bazel:python_tool_action.bzl", "run_python_tool")
load(":labels.bzl", "label_text")
load(":profiles.bzl", "parse_profiles", "parse_workspace")
load(":providers.bzl", "EngineInfo")
load(":toolchains.bzl", "TOOLCHAIN_TYPE")

_CPUS = ["@platforms//cpu:x86_64", "@platforms//cpu:aarch64"]

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
        if label_text(ctx.fragments.platform.platform) != platform:
            # Analysed outside its engine's configuration (`bazel cquery //pkg:all` lists
            # manual targets too): there is nothing to compile for this platform.
            return [DefaultInfo()]
        _fail(ctx, "no engine compiler serves platform %s (it has %s): kiln compiles for a CPU with an ONNX Runtime release (%s) or a GPU with a TensorRT version (%s)" % (
            platform,
            hardware,
            ", ".join(HARDWARE["onnxruntime"]),
            ", ".join(HARDWARE["tensorrt"]),
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
    profiles, problem = parse_profiles(ctx.attr.profiles)
    if problem:
        _fail(ctx, problem)

    model_name = ctx.attr.model_name or ctx.file.model.basename.removesuffix(".onnx")
    file_name = "%s__%s_%s.%s" % (model_name, tag, ctx.attr.precision, compiler.extension)
    out_dir = ctx.attr.out_dir
    engine = ctx.actions.declare_file("%s/%s" % (out_dir, file_name))
    sidecar = ctx.actions.declare_file("%s/%s.sha256" % (out_dir, file_name))
    record = ctx.actions.declare_file("%s/%s.json" % (out_dir, file_name))

    model_dir = ctx.file.model.dirname
    for data in ctx.files.model_data:
        if data.dirname != model_dir:
            _fail(ctx, "model_data %s is not in the directory of model %s; the model finds its external data beside itself, so put both in one package (or generate them into one directory)" % (data.short_path, ctx.file.model.short_path))

    args = ctx.actions.args()
    args.add("--model", ctx.file.model)
    args.add_all(ctx.files.model_data, before_each = "--model-data")
    args.add("--model-name", model_name)
    args.add("--platform", platform)
    for setting in compiler.checks:
        args.add("--require", "%s=%s" % (setting, hardware.get(setting, NONE)))
    args.add("--precision", ctx.attr.precision)
    args.add("--profiles", json.encode(profiles))
    for key, value in sorted(ctx.attr.options.items()):
        args.add("--option", "%s=%s" % (key, value))
    inputs = [ctx.file.model] + ctx.files.model_data
    if ctx.attr.workspace:
        workspace_bytes, problem = parse_workspace(ctx.attr.workspace)
        if problem:
            _fail(ctx, problem)
        args.add("--workspace-bytes", str(workspace_bytes))
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
        "model_data": attr.label_list(allow_files = True, cfg = _data_transition, doc = "External data files of the model, in its directory."),
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
