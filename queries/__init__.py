"""rtc: queries."""
