"""The README stays true where it can be checked: every setting is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatkit_web.config import Config, env_of, flag_of

README = (Path(__file__).parents[1] / "README.md").read_text()
SETTINGS = [name for name in Config.model_fields if name != "user_id"]


@pytest.mark.parametrize("name", SETTINGS)
def test_every_setting_is_in_the_readme_with_its_flag_and_variable(name: str) -> None:
    field = Config.model_fields[name]
    assert f"| `{flag_of(name)}` | `{env_of(field)}` |" in README
