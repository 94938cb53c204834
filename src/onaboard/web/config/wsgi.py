"""WSGI entry point for gunicorn (``onaboard serve``): production settings unless DJANGO_SETTINGS_MODULE names
others, so a server started by hand still refuses to run without a secret key and allowed hosts."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "onaboard.web.config.settings.production")
application = get_wsgi_application()
