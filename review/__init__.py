"""The web review UI: a thin shell over `corpus`."""
