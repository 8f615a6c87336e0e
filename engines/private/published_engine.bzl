"""published_engine: an engine built for its platform, re-exposed under the package's bazel-bin."""

load(":providers.bzl", "EngineInfo")

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
