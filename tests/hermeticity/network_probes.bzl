"""network_probes: the network probe, run once as each kind of action the project runs."""

load("@bazel_skylib//rules:common_settings.bzl", "BuildSettingInfo")
load("//tools/bazel:python_tool_action.bzl", "ACTION_MNEMONICS", "run_python_tool")

# The probe's result must come from running it now, never from a cache: a cached
# "no network" would outlive the sandbox that produced it.
_NEVER_CACHED = {"no-cache": "", "no-remote-cache": ""}

def _network_probes_impl(ctx):
    tcp = ctx.attr._tcp[BuildSettingInfo].value
    dns = ctx.attr._dns[BuildSettingInfo].value
    if not tcp or not dns:
        fail("%s probes a listener outside the sandbox: set --//tests/hermeticity:tcp=127.0.0.1:PORT and --//tests/hermeticity:dns=127.0.0.1:PORT (tests/e2e/network.sh starts the listener and does)" % ctx.label)
    reports = []
    for mnemonic in ACTION_MNEMONICS:
        report = ctx.actions.declare_file("%s/%s.json" % (ctx.label.name, mnemonic))
        args = ctx.actions.args()
        args.add("--kind", mnemonic)
        args.add("--tcp", tcp)
        args.add("--dns", dns)
        args.add("--out", report)
        run_python_tool(
            ctx,
            tool = ctx.attr.probe,
            arguments = [args],
            inputs = [],
            outputs = [report],
            mnemonic = mnemonic,
            progress_message = "Probing the network as a %s action" % mnemonic,
            execution_requirements = _NEVER_CACHED,
        )
        reports.append(report)
    return [DefaultInfo(files = depset(reports))]

network_probes = rule(
    implementation = _network_probes_impl,
    doc = """Runs `probe` once per entry of ACTION_MNEMONICS, with that mnemonic.

An action's sandbox follows from its mnemonic (--strategy=MNEMONIC=...), its
execution requirements and its platform; run_python_tool gives every project action
the same requirements, so the probe run as MNEMONIC is sandboxed exactly as that
kind of action is. Output: `<name>/<MNEMONIC>.json` per kind, never cached.
""",
    attrs = {
        "probe": attr.label(
            doc = "tests/hermeticity:network_probe, or a tool with its command line.",
            mandatory = True,
            executable = True,
            cfg = "exec",
        ),
        "_dns": attr.label(default = ":dns"),
        "_tcp": attr.label(default = ":tcp"),
    },
)
