"""The command line: `python server.py [flags]` serves the ChatKit protocol under uvicorn."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import uvicorn

from chatkit_web import Config, create_app, parse_config
from chatkit_web.logs import configure_logging

__all__ = ["Config", "create_app", "main"]

logger = logging.getLogger("chatkit.server")


def main(argv: Sequence[str] | None = None) -> None:
    """Run the server under uvicorn."""
    config = parse_config(argv, os.environ)
    configure_logging(config.log_level, config.log_format)
    app = create_app(config)
    base = f"http://{config.host}:{config.port}"
    logger.info(
        "serving %s: open %s/ or %s/inspector (API %s/chatkit)", config.app, base, base, base
    )
    uvicorn.run(app, host=config.host, port=config.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
