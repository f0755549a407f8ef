import os

import matplotlib

# Tests run headless.
matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")
