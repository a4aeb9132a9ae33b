"""The HTTP side: a Starlette application over the protocol server, and its configuration."""

from .config import Config, load_config
from .factory import create_app
from .mounting import lifespan
from .services import Services, build_services

__all__ = ["Config", "Services", "build_services", "create_app", "lifespan", "load_config"]
