"""hipdrop: an open sacral IMU and the host toolkit that measures pelvic drop stride by stride."""

__version__ = "0.1.0"
