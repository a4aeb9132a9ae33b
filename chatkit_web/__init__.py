"""HTTP-side pieces `server.py` is assembled from: authentication, rate limits, logs."""
