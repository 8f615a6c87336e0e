"""Providers of the engine rules."""

EngineInfo = provider(
    doc = "A compiled engine and its companions: what `engine` targets (and engine_set's per-class targets) provide.",
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
