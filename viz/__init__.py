"""rtc: viz."""
