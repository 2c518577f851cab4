import asyncio

from src.main import main

asyncio.run(main())
