"""rtc: graph."""
