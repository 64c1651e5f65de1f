"""tinysim: a cycle-approximate simulator of always-on TinyML hardware."""

__version__ = "0.1.0"
