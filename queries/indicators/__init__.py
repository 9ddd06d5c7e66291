"""Indicator schemes, their measures and scores (docs/indicators.md)."""
