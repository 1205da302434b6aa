"""Shape and dtype checks for the frozen stage contracts (used in ``__post_init__``)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_array"]


def check_array(
    owner: str, name: str, value: Any, dtype: Any, shape: tuple[int | None, ...]
) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``value`` is an ndarray of ``dtype``/``shape``.

    ``None`` in ``shape`` matches any length on that axis.
    """
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{owner}.{name}: expected numpy.ndarray, got {type(value).__name__}")
    if value.dtype != dtype:
        raise TypeError(f"{owner}.{name}: expected dtype {np.dtype(dtype)}, got {value.dtype}")
    got = value.shape
    if len(got) != len(shape):
        raise ValueError(f"{owner}.{name}: expected shape {shape}, got {got}")
    for g, want in zip(got, shape, strict=True):
        if want is not None and g != want:
            raise ValueError(f"{owner}.{name}: expected shape {shape}, got {got}")
