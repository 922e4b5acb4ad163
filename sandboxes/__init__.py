"""The Sandbox protocol and its backends: where model-written code runs, isolated."""
