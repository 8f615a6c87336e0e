"""engine_manifest: manifest.json for one device's (or platform's) engines."""

load("//tools/bazel:python_tool_action.bzl", "run_python_tool")
load(":providers.bzl", "EngineInfo")

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
        "engines": attr.label_list(mandatory = True, allow_empty = False, providers = [EngineInfo], doc = "The engines the manifest lists: `engine` targets (or engine_set's per-class ones)."),
        "hardware": attr.string_dict(doc = "The device's hardware description."),
        "out_dir": attr.string(doc = "Where manifest.json goes; engines from other directories are published beside it."),
        "platform": attr.string(doc = "The platform label the manifest names; defaults to the engines' one platform."),
        "_tool": attr.label(default = "//engines:manifest", executable = True, cfg = "exec"),
    },
    doc = "manifest.json for one device's (or platform's) engines: model digest, settings, tool versions, engine digest, and for a device which engine it uses per model.",
)
