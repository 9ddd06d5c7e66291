"""rtc: api."""

from api import ids as ids  # registers the id convertor before any route is made
