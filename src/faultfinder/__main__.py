import sys

from faultfinder.cli import main

sys.exit(main())
