import asyncio
import gc
import sys

# httpx 0.28 imports its command-line client (click and pygments) whenever they are installed,
# and uvicorn installs click. A run never uses that client, so it is marked absent here, and
# httpx then falls back to the small stand-in it keeps for when they are missing.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

from coinglass_liquidation_map.main import main  # noqa: E402

try:
    asyncio.run(main())
finally:
    # Every item and charge is stored by now. Objects frozen here are not collected once more
    # at exit, which would only add to the run's billed time.
    gc.freeze()
