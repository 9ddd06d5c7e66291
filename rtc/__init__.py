"""rtc: rtc."""
