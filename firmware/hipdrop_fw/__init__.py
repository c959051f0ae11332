"""hipdrop firmware: one package for the ESP32, MicroPython WebAssembly and CPython."""
