"""Random streams: one ``SeedSequence`` per run, spawned per stage and per entity.

Adding a sensor never changes a threat's path: each stage gets its own child sequence, keyed
by a fixed stage name, and each entity within a stage its own grandchild.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["STAGES", "RunStreams", "stage_seed"]

STAGES = ("threats", "sensors", "tracking", "c2", "engagement", "damage")


def stage_seed(root: np.random.SeedSequence, stage: str) -> np.random.SeedSequence:
    """Child sequence for a named stage, independent of the order stages are asked for.

    Parameters
    ----------
    root : numpy.random.SeedSequence
        The run's root sequence.
    stage : str
        Stage name; any string, hashed into the spawn key.
    """
    key = int.from_bytes(hashlib.sha256(stage.encode()).digest()[:4], "little")
    return np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, key))


class RunStreams:
    """Per-stage, per-entity generators of one run.

    Parameters
    ----------
    seed : int
        The run's seed (root ``SeedSequence`` entropy).
    """

    __slots__ = ("root",)

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.root = np.random.SeedSequence(seed)

    def generator(self, stage: str, entity: int = 0) -> np.random.Generator:
        """Generator for ``entity`` (an index within the stage) of ``stage``."""
        ss = stage_seed(self.root, stage)
        child = np.random.SeedSequence(ss.entropy, spawn_key=(*ss.spawn_key, entity))
        return np.random.default_rng(child)
