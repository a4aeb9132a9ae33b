"""`python server.py [flags]`: serve the ChatKit protocol (the same as `chatkit-server`)."""

from chatkit_web import Config, create_app
from chatkit_web.cli import main

__all__ = ["Config", "create_app", "main"]

if __name__ == "__main__":
    main()
