from services.step_functions_api.app import main

raise SystemExit(main())
