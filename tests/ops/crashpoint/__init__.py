"""A test-only Django app that holds a chosen transaction open, so a test can kill the server inside it."""
