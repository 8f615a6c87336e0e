"""One way to run a project Python tool as a hermetic action.

Every pipeline step (miner runs, merge, gate) goes through `run_python_tool`,
so all of them get the same guarantees:

* `block-network`: no network, whatever the command-line flags say;
* a fixed environment: hash seed, locale, time zone, and the mined libraries
  told to stay offline, so outputs depend on declared inputs only;
* the tool's runfiles as inputs, which include the interpreter binary and its
  identity file (see tools/python/python_host.bzl).
"""

# Libraries that phone home unless told not to: Hugging Face Hub, and ONNX Runtime, whose
# recent Linux wheels upload telemetry (both names its opt-out has had).
# Every action and test gets these (tools/python/py_pytest.bzl).
TELEMETRY_OFF_ENV = {
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "ORT_DISABLE_TELEMETRY": "1",
    "ORT_TELEMETRY_DISABLED": "1",
}

PYTHON_TOOL_ENV = TELEMETRY_OFF_ENV | {
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_OFFLINE": "1",
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONHASHSEED": "0",
    "PYTHONNOUSERSITE": "1",
    "PYTHONUTF8": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TZ": "UTC",
}

EXECUTION_REQUIREMENTS = {"block-network": ""}

# Every kind of action the project runs, by mnemonic. run_python_tool refuses any
# other, and the network proof (tests/hermeticity) runs its probe once as each of
# these, so a new kind of action cannot escape it.
ACTION_MNEMONICS = [
    "Checksums",
    "CorpusDiff",
    "CorpusDocs",
    "CorpusGate",
    "CorpusMerge",
    "EngineCompile",
    "EngineManifest",
    "MineDynamic",
    "MineLift",
    "MineStatic",
    "OciImage",
    "OnnxExport",
    "OnnxModel",
    "SsotVersion",
]

def run_python_tool(ctx, *, tool, arguments, inputs, outputs, mnemonic, progress_message, execution_requirements = {}):
    """Runs `tool` (a py_binary target) as a sandboxed, network-less action.

    Args:
      ctx: the rule context.
      tool: the py_binary target to run (its FilesToRunProvider is used).
      arguments: a list of Args / strings.
      inputs: files the tool reads.
      outputs: files the tool writes.
      mnemonic: the action's mnemonic; one of ACTION_MNEMONICS.
      progress_message: shown while the action runs.
      execution_requirements: added to EXECUTION_REQUIREMENTS (the network probe
        adds no-cache, so its result is never a cached one).
    """
    if mnemonic not in ACTION_MNEMONICS:
        fail("action mnemonic %s is not in ACTION_MNEMONICS (tools/bazel/python_tool_action.bzl); add it there, so the network proof covers it" % mnemonic)
    ctx.actions.run(
        executable = tool[DefaultInfo].files_to_run,
        arguments = arguments,
        inputs = inputs,
        outputs = outputs,
        env = PYTHON_TOOL_ENV,
        execution_requirements = EXECUTION_REQUIREMENTS | execution_requirements,
        mnemonic = mnemonic,
        progress_message = progress_message,
    )
