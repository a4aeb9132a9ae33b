"""Test fixtures that stand in for services over loopback: the fake OpenAI-compatible provider."""
