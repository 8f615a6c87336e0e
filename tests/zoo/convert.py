"""Re-save a model the way users' tools rewrite theirs, with onnx's own converters.

convert.py external-data --src <model> --out <out.onnx>   weights to <out.onnx>.data beside it
convert.py newest-opset --src <model> --out <out.onnx>    to the newest opset this onnx knows
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import onnx
from onnx import version_converter


def external_data(model: Path, out: Path) -> None:
    proto = onnx.load(str(model))
    onnx.save(
        proto,
        str(out),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=out.name + ".data",
        size_threshold=0,
    )


def newest_opset(model: Path, out: Path) -> None:
    converted = version_converter.convert_version(onnx.load(str(model)), onnx.defs.onnx_opset_version())
    onnx.checker.check_model(converted)
    onnx.save(converted, str(out))


def main(argv: list[str]) -> int:
    commands = {"external-data": external_data, "newest-opset": newest_opset}
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=sorted(commands))
    parser.add_argument("--src", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    commands[args.command](args.src, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
