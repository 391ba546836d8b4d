"""The content format that ``seed add`` writes and ``sitegen build`` reads, in one place.

One ``<slug>.md`` per video: YAML front matter (``title`` and ``magnet``; ``torrent``,
``poster``, ``date``, ``duration``, ``tags``) and a Markdown description. Its rules live
here so that the seeder and the site generator never import each other:

- :mod:`.slugs`: which file names can be pages;
- :mod:`.schemes`: which URL schemes trackers and web seeds may use;
- :mod:`.magnet`: building and parsing magnet links;
- :mod:`.entry`: the front-matter keys and the :class:`~.entry.Entry` type;
- :mod:`.reader` and :mod:`.writer`: loading entries (errors name file and line) and writing them;
- :mod:`.files`: the one atomic writer and the one writable-folder check.
"""
