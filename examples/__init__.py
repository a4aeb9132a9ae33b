"""Example apps: run one with `python server.py --app examples.NAME:app`."""
