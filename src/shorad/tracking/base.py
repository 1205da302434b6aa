"""Tracking stage contract: :class:`Tracks`, the tracker's picture at one time.

The state vector is ``x = [x_m, y_m, z_m, vx_mps, vy_mps, vz_mps]`` in ENU about the site
origin. Tracks are the only thing C2 sees; they never carry truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from shorad._contract import check_array

__all__ = ["CONFIRMED", "DELETED", "TENTATIVE", "Tracks"]

TENTATIVE = np.int8(0)
CONFIRMED = np.int8(1)
DELETED = np.int8(2)


@dataclass(frozen=True, slots=True)
class Tracks:
    """All live tracks at time ``t_s`` (one row per track).

    Attributes
    ----------
    t_s : float
        Time the states refer to (s).
    track_id : (m,) int64
        Deterministic, never reused within a run (1, 2, 3, ... in order of birth).
    x : (m, 6) float64
        ENU position (m) and velocity (m/s).
    P : (m, 6, 6) float64
        State covariance (symmetric positive definite).
    status : (m,) int8
        ``TENTATIVE`` (0) or ``CONFIRMED`` (1). Deleted tracks are dropped from the batch.
    class_prob : (m, C) float64
        Belief over threat classes (rows sum to 1), columns in the scenario's class order.
    hits : (m,) int32
        Number of measurement updates so far.
    born_t_s : (m,) float64
        Time of the first detection.
    last_update_t_s : (m,) float64
        Time of the latest measurement update.
    confirmed_t_s : (m,) float64
        Time of confirmation, NaN while tentative.
    next_track_id : int
        Id the next new track will get.
    """

    t_s: float
    track_id: NDArray[np.int64]
    x: NDArray[np.float64]
    P: NDArray[np.float64]
    status: NDArray[np.int8]
    class_prob: NDArray[np.float64]
    hits: NDArray[np.int32]
    born_t_s: NDArray[np.float64]
    last_update_t_s: NDArray[np.float64]
    confirmed_t_s: NDArray[np.float64]
    next_track_id: int = 1

    def __post_init__(self) -> None:
        m = self.track_id.shape[0] if isinstance(self.track_id, np.ndarray) else None
        check_array("Tracks", "track_id", self.track_id, np.int64, (None,))
        check_array("Tracks", "x", self.x, np.float64, (m, 6))
        check_array("Tracks", "P", self.P, np.float64, (m, 6, 6))
        check_array("Tracks", "status", self.status, np.int8, (m,))
        check_array("Tracks", "class_prob", self.class_prob, np.float64, (m, None))
        check_array("Tracks", "hits", self.hits, np.int32, (m,))
        check_array("Tracks", "born_t_s", self.born_t_s, np.float64, (m,))
        check_array("Tracks", "last_update_t_s", self.last_update_t_s, np.float64, (m,))
        check_array("Tracks", "confirmed_t_s", self.confirmed_t_s, np.float64, (m,))

    def __len__(self) -> int:
        return int(self.track_id.shape[0])

    @classmethod
    def empty(cls, n_classes: int, t_s: float = 0.0) -> Tracks:
        """No tracks yet."""
        return cls(
            t_s=t_s,
            track_id=np.zeros(0, np.int64),
            x=np.zeros((0, 6)),
            P=np.zeros((0, 6, 6)),
            status=np.zeros(0, np.int8),
            class_prob=np.zeros((0, n_classes)),
            hits=np.zeros(0, np.int32),
            born_t_s=np.zeros(0),
            last_update_t_s=np.zeros(0),
            confirmed_t_s=np.zeros(0),
        )

    def take(self, idx: NDArray[np.intp] | NDArray[np.bool_]) -> Tracks:
        """Subset of rows (index or boolean mask), same time and id counter."""
        return Tracks(
            t_s=self.t_s,
            track_id=self.track_id[idx],
            x=self.x[idx],
            P=self.P[idx],
            status=self.status[idx],
            class_prob=self.class_prob[idx],
            hits=self.hits[idx],
            born_t_s=self.born_t_s[idx],
            last_update_t_s=self.last_update_t_s[idx],
            confirmed_t_s=self.confirmed_t_s[idx],
            next_track_id=self.next_track_id,
        )

    @property
    def confirmed(self) -> NDArray[np.bool_]:
        """Boolean mask of confirmed tracks."""
        mask: NDArray[np.bool_] = self.status == CONFIRMED
        return mask
