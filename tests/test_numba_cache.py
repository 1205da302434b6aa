"""Every kernel's on-disk cache is keyed on all kernel files (see shorad._numba_cache)."""

from __future__ import annotations

import re

from shorad import _numba_cache


def test_every_kernel_module_takes_njit_from_the_cache_module() -> None:
    files = _numba_cache.kernel_files()
    names = {p.relative_to(p.parents[1]).as_posix() for p in files}
    assert {"sim/_loop.py", "geo/_kernels.py", "tracking/_fused.py"} <= names
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "from shorad._numba_cache import njit" in text, path
        assert not re.search(r"^from numba import .*\bnjit\b", text, re.M), path


def test_shorad_kernels_use_the_shorad_locator() -> None:
    from shorad.sim._loop import run_loop
    from shorad.tracking._lsa import lsa_kernel

    for fn in (run_loop, lsa_kernel):
        locator = fn._cache._impl._locator
        assert type(locator).__name__.startswith("Shorad"), type(locator)
        stamp = locator.get_source_stamp()
        assert stamp[1] == _numba_cache.kernels_digest()
