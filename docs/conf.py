"""Sphinx configuration for ssh2cffi's documentation (built with -W: warnings fail)."""
project = "ssh2cffi"
author = "The ssh2cffi developers"
copyright = "2026, The ssh2cffi developers"
release = "0.1.0"

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "sphinx.ext.intersphinx"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "undoc-members": True}
intersphinx_mapping = {}
nitpicky = False
html_theme = "alabaster"
exclude_patterns = ["_build"]
