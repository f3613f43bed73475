"""The web desk's settings, from ``STEPSTREAM_*`` variables (the review desk's, and its own)."""

from __future__ import annotations

from pydantic import Field

from services.review_desk.settings import ReviewDeskSettings

DEFAULT_PORT = 8470


class DeskSettings(ReviewDeskSettings):
    """``STEPSTREAM_DESK_HOST`` / ``STEPSTREAM_DESK_PORT``: where the desk listens."""

    desk_host: str = "127.0.0.1"
    desk_port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    # Failed sign-ins allowed per user name and per client address in the window.
    desk_signin_attempts: int = Field(default=5, ge=1)
    desk_signin_window_seconds: float = Field(default=300.0, gt=0)
    # Set when the desk is served over HTTPS (behind a proxy): cookies then say Secure.
    desk_secure_cookies: bool = False
