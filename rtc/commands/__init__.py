"""One module per command group; importing one registers its commands on ``rtc.common.app``."""
