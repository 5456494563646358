"""Streamlit helpers shared by the pages (cached loaders, legends, credits).

Only pages import this package; ``geo`` and ``analysis`` never import streamlit.
"""
