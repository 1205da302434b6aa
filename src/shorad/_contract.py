"""Shape and dtype checks for the frozen stage contracts (used in ``__post_init__``)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_array"]

# Descriptor of each dtype argument seen so far: comparing two descriptors (often the same
# singleton object) is much cheaper than comparing a descriptor with a scalar type.
_CANONICAL: dict[Any, np.dtype[Any]] = {}


def check_array(
    owner: str, name: str, value: Any, dtype: Any, shape: tuple[int | None, ...]
) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``value`` is an ndarray of ``dtype``/``shape``.

    ``None`` in ``shape`` matches any length on that axis.
    """
    # fast path: a plain ndarray with the wanted dtype and a matching shape
    if type(value) is np.ndarray:
        want = _CANONICAL.get(dtype)
        if want is None:
            want = _CANONICAL[dtype] = np.dtype(dtype)
        got_dtype = value.dtype
        if got_dtype is want or got_dtype == want:  # descriptor == descriptor: cheap
            got = value.shape
            if got == shape:
                return
            if len(got) == len(shape):
                for g, w in zip(got, shape, strict=True):
                    if w is not None and g != w:
                        break
                else:
                    return
    _check_array_slow(owner, name, value, dtype, shape)


def _check_array_slow(
    owner: str, name: str, value: Any, dtype: Any, shape: tuple[int | None, ...]
) -> None:
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
