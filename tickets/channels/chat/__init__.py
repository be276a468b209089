"""Live chat: services (`services.py`: every write), the WebSocket consumer (`consumers.py`) and
its `routing.py`, the embedded widget's tokens and credentials (`widget.py`) and the
WebSocket sign-in of its frame (`middleware.py`)."""
