"""Service clients: build the wire request, send it through a transport, return a frame."""
