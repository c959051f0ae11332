"""The live pipeline: a sample source (BLE link or virtual sensor) → protocol → consumers."""
