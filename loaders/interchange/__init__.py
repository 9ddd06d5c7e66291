"""Interchange with the open formats for people, posts and positions (docs/interchange.md):
Popolo and FollowTheMoney in both directions, the canonical files out, and the column shape
of the Chinese political-elite datasets in."""

FORMATS = ("csv", "popolo", "ftm")  # what ``rtc export`` writes
