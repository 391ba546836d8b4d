"""Videoswarm's mkdocs theme: a video site, not a documentation site.

Registered as the ``videoswarm`` entry point of ``mkdocs.themes``; the plugin picks it
for a ``mkdocs.yml`` that names no theme. ``main.html`` is the page frame (header,
skip link, ``<main>``, no Previous/Next, no "built with MkDocs"); the plugin's own
templates (``sitegen/templates/videoswarm/``) fill its ``content`` block and add
sharing metadata in ``extrahead``. It has no inline script, so the site's
Content-Security-Policy needs no hash for it, and it loads nothing from elsewhere.
"""
