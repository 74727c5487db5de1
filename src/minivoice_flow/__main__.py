"""``python -m minivoice_flow``: the same as the ``minivoice-flow`` command."""

from minivoice_flow._cli import main

raise SystemExit(main())
