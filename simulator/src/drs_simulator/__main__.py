"""``drs-simulator`` / ``python -m drs_simulator``: run the DRS simulator from a shell."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from drs_simulator.errors import FleetFileError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import FrameType


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="drs-simulator",
        description="A local AWS Elastic Disaster Recovery (DRS) endpoint speaking the DRS REST-JSON API.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=4566, help="port to listen on; 0 picks a free one (default 4566)"
    )
    parser.add_argument("--fleet", default=None, help="fleet YAML file (default: the bundled sample fleet)")
    parser.add_argument(
        "--fleet-dir",
        default=None,
        help='the only directory POST /_simulator/reset {"fleet_path": ...} reads fleet files from '
        "(default: the directory of --fleet)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="simulated seconds per real second (default 1; 10 = ten times faster; 0 = clock moves "
        "only through POST /_simulator/clock)",
    )
    parser.add_argument(
        "--ec2-endpoint",
        default=None,
        metavar="URL",
        help="the EC2 endpoint (moto) where DRS keeps each source server's launch template; without "
        "it, launch configurations name no template and fleets giving template settings are refused",
    )
    parser.add_argument(
        "--strict", action="store_true", help="check every response against the service model (slower)"
    )
    parser.add_argument(
        "--list-operations",
        action="store_true",
        help="print the checklist of DRS operations (implemented or not) and exit",
    )
    parser.add_argument("--check-fleet", action="store_true", help="only validate the fleet file and exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.list_operations:
        from drs_simulator.checklist import checklist_markdown

        sys.stdout.write(checklist_markdown())
        return 0
    if args.speed < 0:
        print("drs-simulator: --speed must be >= 0", file=sys.stderr)
        return 2

    from drs_simulator import SAMPLE_FLEET
    from drs_simulator.fleet import default_fleet_dir, load_fleet
    from drs_simulator.models import Simulator
    from drs_simulator.server import DrsHTTPServer, server_url

    try:
        fleet = load_fleet(args.fleet or SAMPLE_FLEET)
    except FleetFileError as exc:
        print(f"drs-simulator: invalid fleet file:\n{exc}", file=sys.stderr)
        return 2
    fleet_dir = Path(args.fleet_dir) if args.fleet_dir else default_fleet_dir(args.fleet or SAMPLE_FLEET)
    if fleet_dir is not None and not fleet_dir.is_dir():
        print(f"drs-simulator: --fleet-dir {fleet_dir} is not a directory", file=sys.stderr)
        return 2
    if args.check_fleet:
        print(f"{fleet.source}: OK ({len(fleet.source_servers)} source servers)")
        return 0
    try:
        simulator = Simulator(
            fleet, args.speed, strict=args.strict, fleet_dir=fleet_dir, ec2_endpoint=args.ec2_endpoint
        )
    except FleetFileError as exc:
        print(f"drs-simulator: {exc}", file=sys.stderr)
        return 2
    try:
        server = DrsHTTPServer((args.host, args.port), simulator)
    except OSError as exc:
        print(f"drs-simulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1

    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    url = server_url(server)
    print(
        f"DRS simulator listening on {url} (account {fleet.account_id}, region {fleet.region}, "
        f"{len(fleet.source_servers)} source servers, speed {args.speed:g}"
        + (f", EC2 at {args.ec2_endpoint}" if args.ec2_endpoint else "")
        + ")",
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    print("DRS simulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
