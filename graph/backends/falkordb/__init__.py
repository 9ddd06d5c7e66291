"""FalkorDB through its native client: the transport, the store with FalkorDB's bulk path,
and a local server for tests and trying rtc out."""

from graph.backends.falkordb.server import NODE_BUFFER, free_port, start_local_server
from graph.backends.falkordb.store import FalkorStore
from graph.backends.falkordb.transport import FalkorTransport

__all__ = ["NODE_BUFFER", "FalkorStore", "FalkorTransport", "free_port", "start_local_server"]
