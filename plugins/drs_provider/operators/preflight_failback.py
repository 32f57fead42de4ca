"""The failback side of preflight: what each wave brings home, and whether it can.

A failback takes home what a recovery launched. Before anything changes, every server of the run
must have a live recovery instance that is not a drill (else the plan, or that server, was never
recovered), with an origin DRS can send it to: an EC2 origin's region must have DRS initialised;
an on-premises origin goes home through the recovery region's Failback Client. A wave launches in
one region, so its servers must share a way home. Read-only calls only: DescribeRecoveryInstances
in the recovery region, one DescribeSourceServers per origin region.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from drs_provider.recovery.failback import FailbackServer, origin_of
from drs_provider.recovery.recovered import GONE_EC2_STATES, live_recovery_instances

if TYPE_CHECKING:
    from collections.abc import Mapping

    from drs_provider.hooks.drs import DrsHook
    from drs_provider.operators.preflight_fleet import FleetChecks

#: DRS's answer in a region it was never initialised in.
UNINITIALIZED = "UninitializedAccountException"


class FailbackChecks:
    """Check a failback run's servers and find each one's way home.

    :param hook: the preflight task's DRS hook (the recovery region).
    :param fleet: the run's resolved fleet (its servers, for names and dropping optional ones).
    """

    def __init__(self, hook: DrsHook, fleet: FleetChecks) -> None:
        self.hook = hook
        self.fleet = fleet
        #: wave name -> source server ID -> its way home
        self.found: dict[str, dict[str, FailbackServer]] = {}
        #: wave name -> the region it launches in
        self.home_regions: dict[str, str] = {}

    def check(
        self,
        launch: dict[str, dict[str, Any]],
        problems: list[str],
        warnings: list[str],
        *,
        rehearsal: bool = False,
    ) -> None:
        """Fill :attr:`found` and :attr:`home_regions`; add every problem at once.

        :param rehearsal: a failback drill, which only EC2 origins can have (StartFailbackLaunch
            has no drill: on premises it would really fail back).
        """
        servers = self.fleet.each_server(launch)
        instances = self.hook.recovery_instances_of([server_id for _, server_id, _ in servers])
        live = {item["sourceServerID"]: item for item in live_recovery_instances(instances)}
        drills = {
            item["sourceServerID"]: item
            for item in instances
            if item.get("isDrill") and item.get("ec2InstanceState") not in GONE_EC2_STATES
        }
        recovery_region = self.hook.conn_region_name
        for wave_name, server_id, optional in servers:
            why, server = self._way_home(server_id, live.get(server_id), drills.get(server_id))
            if server is not None and rehearsal and not server.origin.is_aws:
                why, server = (
                    "is on premises: a failback drill cannot rehearse its way home (StartFailbackLaunch "
                    "has no drill, it would really fail back)",
                    None,
                )
            if server is not None:
                self.found.setdefault(wave_name, {})[server_id] = server
                continue
            message = f"wave {wave_name!r}: {self.fleet.name(server_id)} {why}"
            if optional:
                warnings.append(f"{message}; optional server left out")
                self.fleet.drop(launch, wave_name, server_id)
            else:
                problems.append(message)
        for wave_name, wave in self.found.items():
            regions: dict[str, list[str]] = {}
            for server in wave.values():
                regions.setdefault(server.home_region(recovery_region), []).append(server.source_server_id)
            if len(regions) > 1:
                ways = "; ".join(f"{region}: {', '.join(ids)}" for region, ids in sorted(regions.items()))
                problems.append(
                    f"wave {wave_name!r}: its servers go home through different regions ({ways}); a "
                    "failback wave launches in one region: split the wave"
                )
            elif regions:
                self.home_regions[wave_name] = next(iter(regions))
        self._check_origin_regions(problems)

    def _way_home(
        self, server_id: str, live: Mapping[str, Any] | None, drill: Mapping[str, Any] | None
    ) -> tuple[str, FailbackServer | None]:
        """The server's way home, or why it has none."""
        if live is None:
            also = ""
            if drill is not None:
                also = f" (its recovery instance {drill.get('recoveryInstanceID')} is a drill's)"
            return (
                "was never recovered: it has no live recovery instance from a recovery"
                f"{also}, so there is nothing to fail back",
                None,
            )
        try:
            origin = origin_of(live)
        except ValueError as error:
            return f"cannot fail back: {error}", None
        return "", FailbackServer(
            source_server_id=server_id,
            recovery_instance_id=str(live.get("recoveryInstanceID")),
            ec2_instance_id=str(live.get("ec2InstanceID") or ""),
            origin=origin,
        )

    def _check_origin_regions(self, problems: list[str]) -> None:
        """Each EC2 origin region answers DRS calls (DRS is initialised there)."""
        by_region: dict[str, list[str]] = {}
        for wave in self.found.values():
            for server in wave.values():
                if server.origin.is_aws and server.origin.region:
                    by_region.setdefault(server.origin.region, []).append(server.source_server_id)
        for region, server_ids in sorted(by_region.items()):
            servers = ", ".join(server_ids)
            try:
                self.hook.in_region(region).conn.describe_source_servers(filters={}, maxResults=1)
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code")
                if code == UNINITIALIZED:
                    problems.append(
                        f"origin region {region}: DRS is not initialised there, so {servers} cannot fail "
                        f"back; initialise DRS in {region} first"
                    )
                else:
                    problems.append(f"origin region {region} (servers {servers}): DRS answered {error}")
            except BotoCoreError as error:
                problems.append(f"origin region {region} (servers {servers}): DRS cannot be reached: {error}")

    def wave_failback(self, wave_name: str) -> tuple[Mapping[str, FailbackServer], str | None]:
        """What :class:`~drs_provider.recovery.run.ResolvedWave` keeps of the wave's way home."""
        return MappingProxyType(dict(self.found.get(wave_name, {}))), self.home_regions.get(wave_name)
