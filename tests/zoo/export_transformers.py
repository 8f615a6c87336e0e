"""Export a tiny transformer to ONNX with torch, as a user exports theirs.

The architecture comes from a transformers config class (BERT encoder, GPT-2
decoder) with seeded random weights: no download, the same bytes on every run.
Inputs are int64 `input_ids` and `attention_mask` with dynamic `batch` and
`sequence` axes, the shape every Hugging Face export has.

    export_transformers.py --architecture bert --out tiny_bert.onnx [--float16]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import warnings
from pathlib import Path

import torch
import transformers

# Small enough to build in seconds, big enough to have every layer kind of the real thing.
_CONFIGS = {
    "bert": lambda: transformers.BertConfig(
        vocab_size=1024,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=256,
        max_position_embeddings=128,
    ),
    "gpt2": lambda: transformers.GPT2Config(
        vocab_size=1024, n_embd=64, n_layer=2, n_head=4, n_positions=128, bos_token_id=0, eos_token_id=0
    ),
}
_MODELS = {"bert": transformers.BertModel, "gpt2": transformers.GPT2Model}


class _LastHiddenState(torch.nn.Module):
    """The model called the way serving code calls it, returning one tensor."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        outputs = self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False, return_dict=True)
        return outputs.last_hidden_state


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--architecture", choices=sorted(_CONFIGS), required=True)
    parser.add_argument("--float16", action="store_true", help="weights and arithmetic in float16")
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    model = _MODELS[args.architecture](_CONFIGS[args.architecture]()).eval()
    if args.float16:
        model = model.half()
    input_ids = torch.randint(0, 1024, (2, 16), generator=torch.Generator().manual_seed(1))
    attention_mask = torch.ones(2, 16, dtype=torch.int64)
    axes = {0: "batch", 1: "sequence"}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")  # tracer warnings about Python control flow on shapes
        torch.onnx.export(
            _LastHiddenState(model),
            (input_ids, attention_mask),
            str(args.out),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
            opset_version=args.opset,
            dynamo=False,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
