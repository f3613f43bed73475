from apps.desk.process import main

raise SystemExit(main())
