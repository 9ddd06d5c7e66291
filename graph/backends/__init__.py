"""rtc: graph/backends."""
