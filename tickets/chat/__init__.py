"""Live chat: services (`services.py`) and the WebSocket consumer (`consumers.py`)."""
