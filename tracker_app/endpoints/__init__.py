"""Starlette endpoints: they adapt HTTP and WebSocket to :class:`tracker_app.tracker.Tracker`."""
