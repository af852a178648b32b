"""The app factory: nothing at import time, and independent apps per settings."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from fastapi.testclient import TestClient

from observatoire.api.app import create_app
from observatoire.settings import Settings

PROBE = textwrap.dedent("""
    import sys
    import observatoire.settings as settings
    import observatoire.store.parquet as parquet

    def refuse(*args, **kwargs):
        raise SystemExit("called at import time")

    # Anything that loads a city, builds settings or opens a store at import time fails the probe.
    parquet.ParquetStore.__init__ = refuse
    parquet.ParquetStore.connection = refuse
    settings.Settings.__init__ = refuse
    settings.load_city = refuse

    import observatoire.api
    import observatoire.api.app as app_module
    import observatoire.api.routes.health, observatoire.api.routes.meta
    import observatoire.api.routes.pages, observatoire.api.routes.zones
    from fastapi import FastAPI

    apps = [name for name, value in vars(app_module).items() if isinstance(value, FastAPI)]
    assert not apps, f"module-level apps: {apps}"
    print("clean")
""")


def test_when_imported_then_nothing_is_created(tmp_path: Path) -> None:
    env = {**os.environ, "OBSERVATOIRE_STORE": str(tmp_path / "store")}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"
    assert list(tmp_path.iterdir()) == []         # no store, no var/ folder, no file


def test_when_two_settings_then_two_independent_apps(settings: Settings, tmp_path: Path) -> None:
    first, second = create_app(settings), create_app(Settings(store_dir=tmp_path / "other"))
    assert first is not second and first.state.store is not second.state.store
    with TestClient(first) as c:
        assert c.get("/health").status_code == 200
