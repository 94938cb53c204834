"""onaboard: decision support for onabotulinumtoxinA treatment of chronic migraine."""

__version__ = "0.1.0"
