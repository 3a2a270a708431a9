"""Seeing: images, videos, the browser, rendering pages and comparing them with designs."""
