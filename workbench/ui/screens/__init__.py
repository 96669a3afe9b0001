"""Modal screens: help, dialogs, the document editor, prompt inspection, presets."""
