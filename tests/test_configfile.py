"""Configuration files (policies, retention, audits): one reader, one clear error naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from observatoire.audits.config import load_audit_config
from observatoire.errors import InputError
from observatoire.gate.policy import load_policies
from observatoire.governance.retention import load_retention_days


@pytest.mark.parametrize("load, what", [(load_policies, "policy file"), (load_retention_days, "retention file"),
                                        (load_audit_config, "audit configuration")])
def test_a_missing_or_broken_file_is_one_clear_error_naming_it(tmp_path: Path, load, what: str) -> None:
    with pytest.raises(InputError, match=f"^{what} .*missing.toml: cannot be read"):
        load(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[days\nnot toml", encoding="utf-8")
    with pytest.raises(InputError, match=f"^{what} .*broken.toml: not valid TOML"):
        load(broken)
    assert load(None)                    # the packaged copy reads
