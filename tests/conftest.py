import os
import sys

import matplotlib

# Tests run headless; the catalogue modules import as top-level `mistakes.*`.
matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, os.path.dirname(__file__))
