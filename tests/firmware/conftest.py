"""Put the firmware on sys.path before the firmware test modules are imported."""

import fw_support  # noqa: F401  (imported for its sys.path setup)
