"""Widgets of the workbench's main screen."""
