"""Agents behind the ChatKit protocol: the Agents SDK adapter, tool context, history, models.

An app runs an Agents SDK agent with `Runner.run_streamed`, gives its tools an `AgentContext`,
and turns the run into ChatKit events with `stream_agent_response`.
"""

from .adapter import StreamConverter, stream_agent_response
from .context import AgentContext, ClientToolCall
from .history import ThreadItemConverter, simple_to_agent_input
from .mcp import MCPConfigError, MCPServers, load_mcp_config
from .messages import stream_message_by_hand
from .model_script import ModelScriptError, load_script
from .offline_model import OfflineModel
from .provider_errors import ProviderError
from .providers import ModelChoice, ProviderConfigError, create_model
from .scripted_model import ScriptedModel
from .settings import AppSettings

__all__ = [
    "AgentContext",
    "AppSettings",
    "ClientToolCall",
    "MCPConfigError",
    "MCPServers",
    "ModelChoice",
    "ModelScriptError",
    "OfflineModel",
    "ProviderConfigError",
    "ProviderError",
    "ScriptedModel",
    "StreamConverter",
    "ThreadItemConverter",
    "create_model",
    "load_mcp_config",
    "load_script",
    "simple_to_agent_input",
    "stream_agent_response",
    "stream_message_by_hand",
]
