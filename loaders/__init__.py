"""rtc: loaders."""
