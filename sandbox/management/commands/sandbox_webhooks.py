from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.webhooks import SenderPass, deliveries_run


class Command(BaseCommand):
    help = (
        "Send the sandbox's waiting webhook deliveries, outside a server: `--once` for one pass (batch "
        "waiting events, send what is due), `--loop` to keep sending until interrupted. A running sandbox "
        "server does the same in a background thread; both may run at once without sending twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--once", action="store_true")
        mode.add_argument("--loop", action="store_true")
        parser.add_argument(
            "--interval", type=float, default=1.0, help="--loop: longest pause between passes (seconds)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] <= 0:
            raise CommandError("--interval must be positive.")
        if options["once"]:
            self._report(deliveries_run())
            return
        try:
            while True:
                result = deliveries_run()
                if result.attempts or result.batched:
                    self._report(result)
                wait = options["interval"] if result.next_due_in is None else result.next_due_in
                time.sleep(min(options["interval"], max(wait, 0.05)))
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")

    def _report(self, result: SenderPass) -> None:
        self.stdout.write(
            f"batched {result.batched}, sent {result.attempts}: delivered {result.delivered}, "
            f"retrying {result.retrying}, failed {result.failed}"
        )
        for error in result.errors:
            self.stdout.write(f"  {error}")
