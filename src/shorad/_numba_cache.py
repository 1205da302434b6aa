"""numba's on-disk cache for shorad's kernels, invalidated by a change to any of them.

numba keys a cached function on its own source file only. A kernel that calls kernels of
other files (the compiled engine calls the radar, tracker, C2 and line-of-sight kernels)
links their machine code into its own cache entry, so an edit to a callee would leave a
stale caller in the cache. Here every shorad kernel's cache entry is keyed on the contents of
all shorad files that define kernels: any change to one recompiles them all, once.

:func:`install` registers the locators; it runs on import of this module, and every kernel
module takes its ``njit`` from here (``from shorad._numba_cache import njit``; a test checks),
so the locators are in place before the first kernel is decorated. Functions outside shorad
keep numba's own locators.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

from numba import njit

__all__ = ["install", "kernel_files", "kernels_digest", "njit"]

_PACKAGE = Path(__file__).resolve().parent


@functools.cache
def kernel_files() -> tuple[Path, ...]:
    """Every module of the package that defines a numba kernel (sorted)."""
    out = []
    for path in sorted(_PACKAGE.rglob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:  # pragma: no cover - unreadable install
            continue
        if path.name != "_numba_cache.py" and ("@njit" in text or "numba.njit" in text):
            out.append(path)
    return tuple(out)


@functools.cache
def _digest(stamps: tuple[tuple[str, int, int], ...]) -> str:
    h = hashlib.sha256()
    for path, _, _ in stamps:
        h.update(path.encode())
        h.update(Path(path).read_bytes())
    return h.hexdigest()


def kernels_digest() -> str:
    """SHA-256 over the contents of :func:`kernel_files` (re-read when a file changes)."""
    stamps = []
    for p in kernel_files():
        st = p.stat()
        stamps.append((str(p), st.st_mtime_ns, st.st_size))
    return _digest(tuple(stamps))


def _in_package(py_file: str) -> bool:
    try:
        return Path(py_file).resolve().is_relative_to(_PACKAGE)
    except OSError:  # pragma: no cover - odd file names
        return False


def install() -> None:
    """Put shorad's locators first in numba's list (idempotent)."""
    from numba.core import caching

    impl: Any = caching.CacheImpl
    if getattr(impl, "_shorad_locators", False):
        return

    def wrap(base: Any) -> Any:
        class Locator(base):  # type: ignore[misc]
            @classmethod
            def from_function(cls, py_func: Any, py_file: str) -> Any:
                if not _in_package(py_file):
                    return None
                return super().from_function(py_func, py_file)

            def get_source_stamp(self) -> Any:
                return (super().get_source_stamp(), kernels_digest())

        Locator.__name__ = Locator.__qualname__ = f"Shorad{base.__name__}"
        return Locator

    ours = [
        wrap(caching.UserProvidedCacheLocator),
        wrap(caching.InTreeCacheLocator),
        wrap(caching.UserWideCacheLocator),
    ]
    impl._locator_classes = ours + list(impl._locator_classes)
    impl._shorad_locators = True


install()
