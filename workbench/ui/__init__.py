"""The interactive workbench (Textual). Everything Textual-specific lives in this package."""
