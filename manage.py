#!/usr/bin/env python
"""Same as the ``quantriet`` console script."""

from quantriet.__main__ import main

if __name__ == "__main__":
    main()
