"""The report stage: ``report.json`` rendered for people (``pages``) with SVG plots (``plots``)."""
from .pages import headline, render_html, render_markdown, rerender, write

__all__ = ["headline", "render_html", "render_markdown", "rerender", "write"]
