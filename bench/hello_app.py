"""The baseline for bench/http.py: a bare Flask app that returns a short HTML page."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "<!doctype html><title>hello</title><p>你好</p>"
