"""``make prod-check``: the production stack of docs/deploy.md started for real on this machine, driven
over https and wss, then stopped. The check itself is the package beside this file, deploy/prodcheck/
(what it starts, what it checks and in which order: see its docstring).

Run: ``.venv/bin/python deploy/prod_check.py`` (``--keep`` keeps the temporary directory).
"""

import sys

# deploy/ is not a package: run as a script, this file's folder is on the path and prodcheck/ is found.
from prodcheck.main import main

if __name__ == "__main__":
    sys.exit(main())
