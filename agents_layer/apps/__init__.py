"""The apps `server.py --app` can serve: `tasks` (the default) and `conformance`."""
