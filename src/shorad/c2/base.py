"""C2 stage contracts: effector capabilities, threat assessment, assignments, doctrine.

Effector capabilities live here (not in ``engagement``) because C2 must know them to assign;
``engagement`` imports them to resolve shots against truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from shapely import Polygon

from shorad._contract import check_array

__all__ = [
    "Assignments",
    "Doctrine",
    "EffectorState",
    "EffectorType",
    "Effectors",
    "ThreatAssessment",
]


@dataclass(frozen=True, slots=True)
class EffectorType:
    """Assumptions of one effector type (from a preset; SI units).

    Attributes
    ----------
    name : str
    kind : str
        ``"gun"`` or ``"missile"`` (informative; the model is the same).
    min_range_m, max_range_m : float
        Engagement range limits (slant range at intercept).
    max_alt_m : float
        Highest intercept altitude.
    reaction_s : float
        From the decision to fire to the shot leaving the mount.
    flyout_mps : float
        Mean flyout speed of the round or missile.
    pk_by_class : (C,) float64
        Single-shot probability of kill against each threat class at short range with a
        perfect aim point, in the scenario's class order.
    pk_range_m, pk_range_factor : (k,) float64
        Multiplier on ``pk_by_class`` as a function of intercept range (linear interpolation).
    aim_tolerance_m : float
        One-sigma tolerance of the intercept on aim-point error: the kill probability is
        multiplied by ``exp(-0.5 (miss_m / aim_tolerance_m)^2)``.
    rounds_per_shot : int
        Rounds fired per engagement (a burst, or one missile).
    magazine : int
        Shots (engagements) before a reload.
    reload_s : float
        Time to reload a full magazine once it is empty.
    cost_per_shot_usd : float
        Cost of one engagement.
    channels : int
        Engagements in flight at once.
    debris_radius_m : float
        Radius of the debris footprint of a kill at ground level (grows with altitude).
    """

    name: str
    kind: str
    min_range_m: float
    max_range_m: float
    max_alt_m: float
    reaction_s: float
    flyout_mps: float
    pk_by_class: NDArray[np.float64]
    pk_range_m: NDArray[np.float64]
    pk_range_factor: NDArray[np.float64]
    aim_tolerance_m: float
    rounds_per_shot: int
    magazine: int
    reload_s: float
    cost_per_shot_usd: float
    channels: int
    debris_radius_m: float

    def pk(
        self, cls_prob: NDArray[np.float64], range_m: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Expected single-shot Pk (n,) given class beliefs (n, C) and ranges (n,)."""
        factor = np.interp(range_m, self.pk_range_m, self.pk_range_factor)
        return (cls_prob @ self.pk_by_class) * factor


@dataclass(frozen=True, slots=True)
class Effectors:
    """Every deployed effector (one row per effector).

    Attributes
    ----------
    effector_id : (e,) int64
    unit : (e,) int64
        Index of the unit carrying it.
    type_index : (e,) int64
        Index into ``types``.
    pos_m : (e, 3) float64
        Mount position, ENU metres.
    types : tuple of EffectorType
    """

    effector_id: NDArray[np.int64]
    unit: NDArray[np.int64]
    type_index: NDArray[np.int64]
    pos_m: NDArray[np.float64]
    types: tuple[EffectorType, ...]

    def __post_init__(self) -> None:
        e = self.effector_id.shape[0] if isinstance(self.effector_id, np.ndarray) else None
        check_array("Effectors", "effector_id", self.effector_id, np.int64, (None,))
        check_array("Effectors", "unit", self.unit, np.int64, (e,))
        check_array("Effectors", "type_index", self.type_index, np.int64, (e,))
        check_array("Effectors", "pos_m", self.pos_m, np.float64, (e, 3))

    def __len__(self) -> int:
        return int(self.effector_id.shape[0])

    def take(self, idx: NDArray[np.intp]) -> Effectors:
        """Subset of rows (same types)."""
        return Effectors(
            effector_id=self.effector_id[idx],
            unit=self.unit[idx],
            type_index=self.type_index[idx],
            pos_m=self.pos_m[idx],
            types=self.types,
        )

    def column(self, attr: str) -> NDArray[np.float64]:
        """One numeric ``EffectorType`` attribute per effector, (e,) float64."""
        per_type = np.array([float(getattr(t, attr)) for t in self.types])
        return per_type[self.type_index]


@dataclass(frozen=True, slots=True)
class EffectorState:
    """Snapshot of the effectors' readiness at a C2 cycle (owned and updated by ``sim``).

    Attributes
    ----------
    shots_left : (e,) int64
        Shots in the magazine.
    channels_busy : (e,) int64
        Engagements in flight.
    ready_t_s : (e,) float64
        Earliest time the effector can fire again (reload).
    """

    shots_left: NDArray[np.int64]
    channels_busy: NDArray[np.int64]
    ready_t_s: NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Doctrine:
    """Engagement rules.

    Attributes
    ----------
    assignment : str
        ``"greedy"`` (:class:`shorad.c2.GreedyAssigner`) or ``"wta"``
        (:class:`shorad.c2.WtaAssigner`).
    shots_per_salvo : int
        1 = shoot-look-shoot; 2 = shoot-shoot-look (two effectors at once on a track).
    look_s : float
        After the last intercept of a salvo, wait this long to assess before re-engaging.
    engage_confirmed_only : bool
        Never engage a tentative track.
    stale_track_s : float
        A track not updated for longer than this is not engaged (it may be a dead target).
    min_threat_value : float
        Tracks below this threat value are not engaged (hold fire).
    min_pk : float
        Hold fire while the expected kill probability of the best engagement is below this.
    no_fire_zones : tuple of shapely.Polygon
        ENU polygons (e.g. dense housing): no intercept is ordered whose predicted point, or
        the predicted centre of its debris, lies over one of them.
    """

    assignment: str = "greedy"
    shots_per_salvo: int = 1
    look_s: float = 1.0
    engage_confirmed_only: bool = True
    stale_track_s: float = 2.5
    min_threat_value: float = 0.0
    min_pk: float = 0.0
    no_fire_zones: tuple[Polygon, ...] = ()


@dataclass(frozen=True, slots=True)
class ThreatAssessment:
    """Threat evaluation of every track against every asset at ``t_s``.

    Attributes
    ----------
    t_s : float
    track_id : (m,) int64
    time_to_go_s : (m, a) float64
        Time to the horizontal closest point of approach (inf when opening).
    cpa_m : (m, a) float64
        Horizontal miss distance at closest approach (current distance when opening).
    threat_value : (m,) float64
        Largest asset-weighted threat over assets (see :func:`shorad.c2.evaluate_threats`).
    asset : (m,) int64
        The asset giving that largest value.
    """

    t_s: float
    track_id: NDArray[np.int64]
    time_to_go_s: NDArray[np.float64]
    cpa_m: NDArray[np.float64]
    threat_value: NDArray[np.float64]
    asset: NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Assignments:
    """Fire orders decided at one C2 cycle (one row per engagement).

    Attributes
    ----------
    effector_id : (k,) int64
    track_id : (k,) int64
    fire_t_s : (k,) float64
        Time the shot leaves the mount (decision time + reaction).
    rounds : (k,) int64
    intercept_t_s : (k,) float64
        Predicted intercept time.
    aim_m : (k, 3) float64
        Predicted intercept point, from the track (C2 never sees truth).
    pk_expected : (k,) float64
        C2's estimate of the kill probability.
    """

    effector_id: NDArray[np.int64]
    track_id: NDArray[np.int64]
    fire_t_s: NDArray[np.float64]
    rounds: NDArray[np.int64]
    intercept_t_s: NDArray[np.float64]
    aim_m: NDArray[np.float64]
    pk_expected: NDArray[np.float64]

    def __post_init__(self) -> None:
        k = self.effector_id.shape[0] if isinstance(self.effector_id, np.ndarray) else None
        check_array("Assignments", "effector_id", self.effector_id, np.int64, (None,))
        check_array("Assignments", "track_id", self.track_id, np.int64, (k,))
        check_array("Assignments", "fire_t_s", self.fire_t_s, np.float64, (k,))
        check_array("Assignments", "rounds", self.rounds, np.int64, (k,))
        check_array("Assignments", "intercept_t_s", self.intercept_t_s, np.float64, (k,))
        check_array("Assignments", "aim_m", self.aim_m, np.float64, (k, 3))
        check_array("Assignments", "pk_expected", self.pk_expected, np.float64, (k,))

    def __len__(self) -> int:
        return int(self.effector_id.shape[0])

    def take(self, idx: slice | NDArray[np.intp] | NDArray[np.bool_]) -> Assignments:
        """Subset of rows (slice, index or boolean mask)."""
        return Assignments(
            effector_id=self.effector_id[idx],
            track_id=self.track_id[idx],
            fire_t_s=self.fire_t_s[idx],
            rounds=self.rounds[idx],
            intercept_t_s=self.intercept_t_s[idx],
            aim_m=self.aim_m[idx],
            pk_expected=self.pk_expected[idx],
        )
