"""``GET /health``: the process answers (it does not query the store)."""

from __future__ import annotations

from fastapi import APIRouter

from observatoire.api.models import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health() -> Health:
    """Liveness: the app is up."""
    return Health()
