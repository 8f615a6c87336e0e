"""The executors flag: which hardware has an executor, besides this host."""

load(":constraints.bzl", "check_executor_tag", "exec_hardware", "executor_provides")

ExecutorsInfo = provider(
    doc = "The executors this build can use.",
    fields = {
        "host": "executor tags this host satisfies (it always builds for its own hardware)",
        "named": "hardware tags named with --//platforms:executors, as given",
        "tags": "every executor tag satisfied by the host or a named executor, sorted",
    },
)

def _executors_impl(ctx):
    tags = {tag: True for tag in ctx.attr.host}
    for tag in ctx.build_setting_value:
        problem = check_executor_tag(tag)
        if problem:
            fail("--@kiln//platforms:executors: {}".format(problem))
        arch = exec_hardware(tag)["cpu"]
        if arch != ctx.attr.host_cpu:
            fail(("--@kiln//platforms:executors={}: that executor is an {} machine, this host is {}. kiln builds its tools and Python " +
                  "environments for the host's architecture, so engines for {} build on such a host (with " +
                  "--@kiln//platforms:executors unset there, it counts for its own hardware).").format(
                tag,
                arch,
                ctx.attr.host_cpu,
                arch,
            ))
        for provided in executor_provides(tag):
            tags[provided] = True
    return [ExecutorsInfo(host = ctx.attr.host, named = ctx.build_setting_value, tags = sorted(tags))]

executors_flag = rule(
    implementation = _executors_impl,
    build_setting = config.string_list(flag = True, repeatable = True),
    attrs = {
        "host": attr.string_list(doc = "The executor tags this host satisfies (devices.bzl HOST_EXECUTORS)."),
        "host_cpu": attr.string(mandatory = True, doc = "This host's CPU architecture."),
        "provides": attr.string_list_dict(
            doc = "Per executor tag an engine can need, the hardware tags that satisfy it (devices.bzl " +
                  "EXECUTOR_PROVIDERS); the gates are generated from it.",
        ),
    },
    doc = "Hardware with an executor besides this host: CPU architectures (x86_64), ISA levels (x86-64-v3), " +
          "GPUs (sm87_jp6.2_trt10.3, sm90_trt10.13) or GPU classes (sm80+_trt10.13).",
)
