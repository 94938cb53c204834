"""Commands of `onaboard` that work on the web app's database (Django is set up inside each command, so the
engine commands start without it). Each module has ``register(app)``, called by ``onaboard.cli``."""
