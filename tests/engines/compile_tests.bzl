"""Analysis tests: which engine each device gets, and what its compile asks the builder for.

Without TensorRT on the build host, the GPU mapping is proven here, on the
actions Bazel would run: the GPU engines are made compatible by naming executors
(--//platforms:executors, as a GPU runner or a remote pool would), and nothing is
executed.
"""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")

_EXECUTORS = str(Label("//platforms:executors"))

# Every x86-64 executor the shipped devices need, so every x86-64 fleet target is analysed.
_ALL_EXECUTORS = ["sm80+_trt10.13", "x86-64-v2", "x86-64-v3", "x86-64-v4"]

def _only_action(env, mnemonic):
    actions = [action for action in analysistest.target_actions(env) if action.mnemonic == mnemonic]
    asserts.equals(env, 1, len(actions), "%s actions" % mnemonic)
    return actions[0] if actions else None

def _flag_values(argv, flag):
    return [argv[index + 1] for index in range(len(argv) - 1) if argv[index] == flag]

def _device_uses_impl(ctx):
    env = analysistest.begin(ctx)
    action = _only_action(env, "EngineManifest")
    if action:
        (device,) = _flag_values(action.argv, "--device")
        asserts.equals(env, json.decode(ctx.attr.uses), json.decode(device)["uses"])
    return analysistest.end(env)

device_uses_test = analysistest.make(
    _device_uses_impl,
    attrs = {"uses": attr.string(mandatory = True, doc = "JSON: {model: [engine file, ...]}")},
    config_settings = {_EXECUTORS: _ALL_EXECUTORS},
)

def _compile_impl(ctx):
    env = analysistest.begin(ctx)
    action = _only_action(env, "EngineCompile")
    if action:
        argv = action.argv
        required = {pair.partition("=")[0]: pair.partition("=")[2] for pair in _flag_values(argv, "--require")}
        asserts.equals(env, ctx.attr.required, required)
        asserts.equals(env, [ctx.attr.tag], _flag_values(argv, "--tag"))
        asserts.equals(env, ctx.attr.options, _flag_values(argv, "--option"))
        outputs = [output.basename for output in action.outputs.to_list()]
        asserts.true(env, ctx.attr.file in outputs, "%s not among %s" % (ctx.attr.file, outputs))
    return analysistest.end(env)

_COMPILE_ATTRS = {
    "file": attr.string(mandatory = True),
    "options": attr.string_list(),
    "required": attr.string_dict(mandatory = True),
    "tag": attr.string(mandatory = True),
}

def _compile_test(platform):
    # The compile target is analysed in its platform's configuration, as its engine target's transition does.
    return analysistest.make(
        _compile_impl,
        attrs = _COMPILE_ATTRS,
        config_settings = {
            "//command_line_option:platforms": [str(Label(platform))],
            _EXECUTORS: _ALL_EXECUTORS,
        },
    )

ampere_plus_compile_test = _compile_test("//platforms/class:sm80+_trt10.13")
version_compatible_compile_test = _compile_test("//tests/engines:h100_version_compatible")
portable_compile_test = _compile_test("//platforms/class:x86_64_ort1.32")
isa_tied_compile_test = _compile_test("//platforms/class:x86-64-v3_ort1.32")
