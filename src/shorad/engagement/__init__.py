"""Engagement: assignments + truth -> outcomes (kill or miss, resolved against truth)."""

from shorad.engagement.base import NO_THREAT, Outcomes
from shorad.engagement.resolve import FALSE_TRACK_FACTOR, resolve_engagements

__all__ = ["FALSE_TRACK_FACTOR", "NO_THREAT", "Outcomes", "resolve_engagements"]
