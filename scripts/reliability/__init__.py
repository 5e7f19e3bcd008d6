"""The reliability run behind `python scripts/reliability.py`: one module per part.

    harness     server processes, databases, signed clients, the ledger read back from the store
    fuzz        every endpoint of openapi.json with hypothesis-generated bad input
    crash       concurrent transfers and margin changes while the server is SIGKILLed
    races       concurrent requests that together would overdraw one account
    auth        replays, tampering, keys without rights, secrets kept out of logs, file modes
    ratelimit   429 then growing 418 bans for an abuser, nothing for a client on another IP
    soak        mixed traffic at half the measured capacity, memory watched

Each part returns a dict of figures and a list of failed checks (strings); `run` puts them together.
Nothing here imports the server: it is driven as a subprocess, over HTTP, as a client would.
"""
