"""Fixture with the shapes of tensorrt_llm/llmapi/llm_args.py (see ../__init__.py)."""

from pathlib import Path
from typing import Literal, Optional, Union

import torch
from pydantic import BaseModel, Field, field_validator, model_validator

from ..logger import logger

MAX_BEAM_WIDTH = 8
BACKENDS = ("pytorch", "_autodeploy")


class StrictBaseModel(BaseModel):
    model_config = {"extra": "forbid"}


class BaseLlmArgs(StrictBaseModel):
    model: Union[str, Path] = Field(description="The model checkpoint or name.")
    dtype: str = Field(default="auto")
    tokenizer_mode: Literal["auto", "slow"] = Field(default="auto")
    tensor_parallel_size: int = Field(default=1)
    pipeline_parallel_size: int = Field(default=1)
    gpus_per_node: Optional[int] = Field(default=None, validate_default=True)
    moe_expert_parallel_size: Optional[int] = Field(default=None)
    max_beam_width: Optional[int] = Field(default=None)
    max_input_len: Optional[int] = Field(default=None)
    max_seq_len: Optional[int] = Field(default=None)
    backend: Optional[str] = Field(default=None)

    @field_validator("dtype")
    @classmethod
    def validate_dtype(cls, v, info):
        # Hardware-gated: decided by the GPU at hand, not by the config.
        if torch.cuda.get_device_properties(0).major < 8 and v == "bfloat16":
            raise RuntimeError("Pre SM 80 GPUs do not support bfloat16")
        return v

    @field_validator("gpus_per_node", mode="before")
    @classmethod
    def validate_gpus_per_node(cls, v, info):
        if v is None:
            logger.warning(f"Using default gpus_per_node: {torch.cuda.device_count()}")
            v = torch.cuda.device_count()
        return v

    @field_validator("model")
    @classmethod
    def validate_model(cls, v, info):
        if not isinstance(v, (str, Path)):
            raise ValueError(f"Invalid model: {v}")
        return v

    @model_validator(mode="after")
    def validate_parallel_config(self):
        if self.moe_expert_parallel_size is None:
            self.moe_expert_parallel_size = -1
        if self.tensor_parallel_size < 1:
            raise ValueError(f"tensor_parallel_size must be at least 1, got {self.tensor_parallel_size}")
        if self.tensor_parallel_size * self.pipeline_parallel_size > 64:
            raise ValueError("too many ranks")
        return self

    @model_validator(mode="after")
    def validate_build_config_with_runtime_params(self):
        if self.max_beam_width is not None and self.max_beam_width > MAX_BEAM_WIDTH:
            raise ValueError(f"max_beam_width ({self.max_beam_width}) exceeds the limit of {MAX_BEAM_WIDTH}")
        if self.backend in BACKENDS and self.max_beam_width is not None and self.max_beam_width > 1:
            logger.warning(f"max_beam_width is clamped to 1 with the {self.backend} backend")
            self.max_beam_width = 1
        if self.max_input_len is not None and self.max_seq_len is not None:
            if self.max_input_len > self.max_seq_len:
                raise ValueError(
                    f"max_input_len ({self.max_input_len}) must not exceed max_seq_len ({self.max_seq_len})"
                )
        return self
