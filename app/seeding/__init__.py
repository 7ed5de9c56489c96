"""Sample data for demos, `seed.py` and the `demo` sandbox template."""
