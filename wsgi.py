"""WSGI entry point: ``gunicorn wsgi:app`` (see README), or ``python wsgi.py`` for development."""
import os

from portal import create_app
from portal.extensions import socketio

app = create_app()

if __name__ == "__main__":
    socketio.run(
        app,
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "5000")),
        allow_unsafe_werkzeug=True,
    )
