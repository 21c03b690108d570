import sys

from sentireview.cli import main

sys.exit(main())
