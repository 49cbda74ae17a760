from sipfsm.cli import main

raise SystemExit(main())
