# A fixture for the miners' tests, written for this project: it has the shapes of
# TensorRT-LLM's argument classes (pydantic field and model validators that raise,
# warn or clamp; imports of torch and of the package's own logger) but none of its
# code. It is read as source only, like the real release archive.
