"""The data pipeline: a file read, its columns resolved, times and numbers parsed, a Panel built."""
