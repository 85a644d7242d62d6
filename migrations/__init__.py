"""Alembic's environment and revisions, shipped in the wheel as package data.

A package only so that an installed Passerelle can find this folder (importlib.resources);
nothing here is meant to be imported.
"""
