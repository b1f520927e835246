"""Exit codes: the verdict of a run is the process exit code.

=====  ================  =====================================================================
code   name              meaning
=====  ================  =====================================================================
0      OK                completed, no anomaly (race not reproduced)
1      ANOMALY           anomaly found (race reproduced)
2      INCONCLUSIVE      the lag never took hold, the cluster never converged, or interrupted
3      ERROR             usage, configuration or driver error (one line on stderr)
=====  ================  =====================================================================
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit codes; see the module docstring."""

    OK = 0
    ANOMALY = 1
    INCONCLUSIVE = 2
    ERROR = 3


EXIT_CODES_HELP = (
    "exit codes: 0 completed, no anomaly; 1 anomaly found (race reproduced); "
    "2 inconclusive (lag never took hold, no convergence, interrupted); "
    "3 usage, configuration or driver error"
)
