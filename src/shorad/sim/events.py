"""Typed event log of a run: one columnar table, ordered by ``(t_s, priority, seq)``.

Each kind's priority orders simultaneous events cause-first (a detection before the track it
confirms, an engagement before its intercept, a kill before the debris it makes).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["EventKind", "EventLog", "EventRecorder"]


class EventKind(IntEnum):
    """Event kinds; the value is the priority among events at the same time."""

    LAUNCH = 0
    DETECTION = 1
    TRACK_CONFIRMED = 2
    TRACK_DELETED = 3
    ENGAGEMENT = 4
    INTERCEPT = 5
    KILL = 6
    DEBRIS = 7
    LEAK = 8
    IMPACT = 9
    RELOAD = 10

    @property
    def label(self) -> str:
        """Lower-case name used in tables and files."""
        return self.name.lower()


_INT_FIELDS = ("threat_id", "track_id", "unit_id", "effector_id", "asset_id", "building")
_FLOAT_FIELDS = ("x_m", "y_m", "z_m", "value")


@dataclass(frozen=True, slots=True)
class EventLog:
    """The finished log: one array per column, sorted by ``(t_s, kind, seq)``.

    Attributes
    ----------
    t_s : (n,) float64
    kind : (n,) int8
        :class:`EventKind` values.
    seq : (n,) int64
        Order of recording (tie-breaker).
    threat_id, track_id, unit_id, effector_id, asset_id, building : (n,) int64
        -1 where not applicable; ``building`` is the city building index under a debris
        footprint or struck by an impact. ``threat_id`` on detection/track events is truth kept for
        scoring; C2 never reads it.
    x_m, y_m, z_m : (n,) float64
        Where the event happened (ENU), NaN if not applicable.
    value : (n,) float64
        Kind-specific number: detection range, Pk of an engagement or intercept, 1/0 kill
        flag of an intercept, debris radius, asset value of an impact, shots after reload.
    """

    t_s: NDArray[np.float64]
    kind: NDArray[np.int8]
    seq: NDArray[np.int64]
    threat_id: NDArray[np.int64]
    track_id: NDArray[np.int64]
    unit_id: NDArray[np.int64]
    effector_id: NDArray[np.int64]
    asset_id: NDArray[np.int64]
    building: NDArray[np.int64]
    x_m: NDArray[np.float64]
    y_m: NDArray[np.float64]
    z_m: NDArray[np.float64]
    value: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    def of(self, kind: EventKind) -> NDArray[np.bool_]:
        """Mask of the events of one kind."""
        mask: NDArray[np.bool_] = self.kind == int(kind)
        return mask

    def columns(self) -> dict[str, NDArray[np.generic]]:
        """Column name to array, in schema order."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _column(value: object, n: int, dtype: type) -> NDArray[np.generic]:
    """``value`` (scalar or (n,) array) as a fresh (n,) array of ``dtype``."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        if value.shape[0] != n:
            raise ValueError(f"event field has {value.shape[0]} values for {n} events")
        return value.astype(dtype, copy=True)
    return np.full(n, value, dtype)


class EventRecorder:
    """Collects events in chunks during a run (the only mutable part, owned by ``sim``)."""

    __slots__ = ("_chunks", "_n")

    def __init__(self) -> None:
        self._chunks: list[dict[str, NDArray[np.generic]]] = []
        self._n = 0

    def record(
        self,
        kind: EventKind,
        t_s: float | NDArray[np.float64],
        *,
        n: int = 1,
        pos_m: NDArray[np.float64] | None = None,
        **fields: int | float | NDArray[np.generic],
    ) -> None:
        """Record ``n`` events of one kind (scalars broadcast over ``n``).

        Parameters
        ----------
        kind : EventKind
        t_s : float or (n,) float64
        n : int
            Number of events in this call.
        pos_m : (n, 3) or (3,) float64, optional
            Event positions.
        **fields
            Any of ``threat_id, track_id, unit_id, effector_id, asset_id, building, value``.
        """
        if n == 0:
            return
        unknown = set(fields) - set(_INT_FIELDS) - {"value"}
        if unknown:
            raise TypeError(f"unknown event fields {sorted(unknown)}")
        chunk: dict[str, NDArray[np.generic]] = {
            "t_s": _column(t_s, n, np.float64),
            "kind": np.full(n, int(kind), np.int8),
            "seq": np.arange(self._n, self._n + n, dtype=np.int64),
        }
        for name in _INT_FIELDS:
            chunk[name] = _column(fields.get(name, -1), n, np.int64)
        if pos_m is None:
            nan = np.full(n, np.nan)
            chunk["x_m"], chunk["y_m"], chunk["z_m"] = nan, nan, nan
        else:
            p = np.asarray(pos_m, np.float64).reshape(-1, 3)
            if p.shape[0] != n:
                p = np.broadcast_to(p, (n, 3))
            chunk["x_m"], chunk["y_m"], chunk["z_m"] = (p[:, i].copy() for i in range(3))
        chunk["value"] = _column(fields.get("value", np.nan), n, np.float64)
        self._chunks.append(chunk)
        self._n += n

    def finish(self) -> EventLog:
        """Concatenate and sort by ``(t_s, kind, seq)``."""
        names = ("t_s", "kind", "seq", *_INT_FIELDS, *_FLOAT_FIELDS)
        if not self._chunks:
            empty: dict[str, NDArray[Any]] = {k: np.zeros(0, np.int64) for k in names}
            for k in ("t_s", *_FLOAT_FIELDS):
                empty[k] = np.zeros(0)
            empty["kind"] = np.zeros(0, np.int8)
            return EventLog(**empty)
        cols = {k: np.concatenate([c[k] for c in self._chunks]) for k in names}
        order = np.lexsort((cols["seq"], cols["kind"], cols["t_s"]))
        return EventLog(**{k: v[order] for k, v in cols.items()})
