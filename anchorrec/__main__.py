from anchorrec.cli import main

raise SystemExit(main())
