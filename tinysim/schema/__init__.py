"""YAML with line numbers and validated field readers: the one-line `FILE:LINE: field: expected ...` errors
every YAML front end (architectures, layer lists, scenarios, sweeps) shares."""
