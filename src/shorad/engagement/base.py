"""Engagement stage contract: :class:`Outcomes` of shots, resolved against truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from shorad._contract import check_array

__all__ = ["NO_THREAT", "Outcomes"]

NO_THREAT = -1
"""``threat_id`` of a shot that found no real threat near its aim point (a false track)."""


@dataclass(frozen=True, slots=True)
class Outcomes:
    """Resolved engagements (one row per shot).

    Attributes
    ----------
    effector_id, track_id : (k,) int64
        Who fired at which track.
    threat_id : (k,) int64
        The real threat nearest the aim point at intercept time, ``NO_THREAT`` if none near.
    t_s : (k,) float64
        Intercept time.
    killed : (k,) bool
    miss_m : (k,) float64
        Distance between the aim point and the threat at intercept time (inf if none).
    pk : (k,) float64
        Kill probability that was drawn against.
    pos_m : (k, 3) float64
        Where the intercept happened (the threat's true position, or the aim point).
    target_vel_mps : (k, 3) float64
        True velocity of the threat at intercept (zero if none): drives the debris throw.
    """

    effector_id: NDArray[np.int64]
    track_id: NDArray[np.int64]
    threat_id: NDArray[np.int64]
    t_s: NDArray[np.float64]
    killed: NDArray[np.bool_]
    miss_m: NDArray[np.float64]
    pk: NDArray[np.float64]
    pos_m: NDArray[np.float64]
    target_vel_mps: NDArray[np.float64]

    def __post_init__(self) -> None:
        k = self.effector_id.shape[0] if isinstance(self.effector_id, np.ndarray) else None
        check_array("Outcomes", "effector_id", self.effector_id, np.int64, (None,))
        check_array("Outcomes", "track_id", self.track_id, np.int64, (k,))
        check_array("Outcomes", "threat_id", self.threat_id, np.int64, (k,))
        check_array("Outcomes", "t_s", self.t_s, np.float64, (k,))
        check_array("Outcomes", "killed", self.killed, np.bool_, (k,))
        check_array("Outcomes", "miss_m", self.miss_m, np.float64, (k,))
        check_array("Outcomes", "pk", self.pk, np.float64, (k,))
        check_array("Outcomes", "pos_m", self.pos_m, np.float64, (k, 3))
        check_array("Outcomes", "target_vel_mps", self.target_vel_mps, np.float64, (k, 3))

    def __len__(self) -> int:
        return int(self.effector_id.shape[0])
