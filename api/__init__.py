"""rtc: api."""
