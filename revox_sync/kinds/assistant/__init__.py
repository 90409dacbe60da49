"""Assistants: the model of a file (`spec`), what its fields are beyond the model (`fields`), the model's
shape read without pydantic (`shape`), its comparison rules (`normalize`), loading (`load`), and the kind
itself (`kind`)."""
