"""Damage: leakers reaching assets; debris of intercepts over buildings."""

from shorad.damage.model import (
    DEBRIS_SPREAD_PER_M,
    asset_hit_by,
    buildings_under,
    debris_footprint,
)

__all__ = ["DEBRIS_SPREAD_PER_M", "asset_hit_by", "buildings_under", "debris_footprint"]
