"""A repeatable list flag naming the GPU hardware an executor exists for."""

ExecutorsInfo = provider(
    doc = "The GPU hardware tags with a reachable executor.",
    fields = {"tags": "list of hardware tags, e.g. sm87_jp6.2_trt10.3"},
)

def _executors_impl(ctx):
    for tag in ctx.build_setting_value:
        if not tag or "/" in tag or " " in tag:
            fail("--{}: '{}' is not a hardware tag like sm87_jp6.2_trt10.3".format(ctx.label, tag))
    return [ExecutorsInfo(tags = ctx.build_setting_value)]

executors_flag = rule(
    implementation = _executors_impl,
    build_setting = config.string_list(flag = True, repeatable = True),
    doc = "GPU hardware tags (sm87_jp6.2_trt10.3, sm90_trt10.13, ...) with a reachable executor.",
)
