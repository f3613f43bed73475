from services.review_desk.app import main

raise SystemExit(main())
