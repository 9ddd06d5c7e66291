import tempfile, time, sys
from pathlib import Path
from graph.backends.falkordb import start_local_server
from bench.load_job import run_job

work = Path("/tmp/fdbkeep")
work.mkdir(exist_ok=True)
if not (work / "data" / "actions.csv").exists():
    run_job("generate", "province", str(work / "data"))
port = 47123
server = start_local_server(port, work, "--appendonly", "no")
run_job("load", str(work / "data"), f"falkordb://127.0.0.1:{port}/rtc")
print("ready", flush=True)
server.wait()
