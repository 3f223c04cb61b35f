"""Plain-Python core of forensics: parsers, normalization and correlation.

Nothing in this package may import Django or Celery; a test enforces it.
"""
