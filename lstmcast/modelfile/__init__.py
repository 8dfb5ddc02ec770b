"""The model file: its container (bytes and tensors), its header's validation, write and read back."""
