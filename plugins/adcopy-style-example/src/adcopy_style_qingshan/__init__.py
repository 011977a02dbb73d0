"""Qingshan Tea 青山茶: a brand style plugin for AdCopy Desktop."""

__version__ = "1.0.0"
