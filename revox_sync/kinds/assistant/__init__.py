"""Assistants: the model of a file (`spec`), its comparison rules (`normalize`), loading (`load`), and the
kind itself (`kind`)."""
