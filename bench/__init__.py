"""Benchmarks: start the app as a real server and measure it from outside (see README,
"Performance")."""
