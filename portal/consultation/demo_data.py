"""Demo questions and answers (written as data; see demo.py)."""
ANSWERED = []
OPEN = []
