"""Intake's public pages: what a signed link in an email opens (see `kit`)."""
