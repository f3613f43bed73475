from services.order_view.app import main

raise SystemExit(main())
