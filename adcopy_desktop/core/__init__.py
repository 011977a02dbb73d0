"""The app's core: everything the GUI and the CLI share. Imports no Qt (tests enforce it)."""
