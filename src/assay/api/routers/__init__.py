"""One router per area of the API; each route only parses, calls a use case and answers."""
