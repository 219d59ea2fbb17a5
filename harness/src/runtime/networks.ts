import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { LabError } from '../common/errors.ts';
import { dockerClient } from './docker.ts';
import { installRules, removeRules } from './firewall.ts';
import { LABEL_LAB, LABEL_NODE, LABEL_RUN } from './labels.ts';

/** Lab IPv4 space: 198.18.0.0/15 (RFC 2544 benchmarking), cut into 512 /24 networks. */
const V4_SLOTS = 512;
/** Lab IPv6 space: a fixed ULA /48 of the project's, one /64 per lab network. */
export const ULA_PREFIX = 'fd5a:7470:6c00';

export interface AddressPlan {
  subnet: string;
  gateway: string;
  /** Docker assigns static and automatic addresses from this range only. */
  dockerRange: string;
  /** Addresses left to the lab's DHCP server. */
  dhcpPool: { start: string; end: string };
}

export interface LabNetwork {
  id: string;
  name: string;
  lab: string;
  bridge: string;
  slot: number;
  ipv4: AddressPlan;
  ipv6: AddressPlan | undefined;
}

export interface CreateNetworkOptions {
  lab: string;
  /** The network's name inside the lab, e.g. "mgmt". */
  name: string;
  run: string;
  ipv6?: boolean;
  labels?: Record<string, string>;
  docker?: Docker;
}

/** The address plan of slot N: .0/26 for Docker, .100 to .200 for DHCP. */
export function planFor(slot: number): { ipv4: AddressPlan; ipv6: AddressPlan } {
  if (!Number.isInteger(slot) || slot < 0 || slot >= V4_SLOTS) {
    throw new LabError(
      'INVALID_ARGUMENT',
      `lab network slot ${slot} is outside 0..${V4_SLOTS - 1}`,
    );
  }
  const second = 18 + Math.floor(slot / 256);
  const third = slot % 256;
  const v4 = `198.${second}.${third}`;
  const v6 = `${ULA_PREFIX}:${slot.toString(16)}`;
  return {
    ipv4: {
      subnet: `${v4}.0/24`,
      gateway: `${v4}.1`,
      dockerRange: `${v4}.0/26`,
      dhcpPool: { start: `${v4}.100`, end: `${v4}.200` },
    },
    ipv6: {
      subnet: `${v6}::/64`,
      gateway: `${v6}::1`,
      dockerRange: `${v6}::/120`,
      dhcpPool: { start: `${v6}::1000`, end: `${v6}::1fff` },
    },
  };
}

/** Docker network name and bridge name (at most 15 characters) for a lab network. */
export function networkNames(lab: string, name: string): { docker: string; bridge: string } {
  const digest = createHash('sha256').update(`${lab}\0${name}`).digest('hex');
  return { docker: `sztp-lab-${lab}-${name}`, bridge: `sztp-${digest.slice(0, 10)}` };
}

async function usedSlots(docker: Docker): Promise<Set<number>> {
  const used = new Set<number>();
  for (const net of await docker.listNetworks()) {
    for (const config of net.IPAM?.Config ?? []) {
      const match = /^198\.(18|19)\.(\d+)\./.exec(config.Subnet ?? '');
      if (match) used.add((Number(match[1]) - 18) * 256 + Number(match[2]));
    }
  }
  return used;
}

/**
 * Creates an internal lab network on a free /24 of 198.18.0.0/15 (and a /64 of the lab's ULA
 * prefix), with a named bridge and its firewall rules. Two labs never share a subnet: a slot
 * taken meanwhile by a concurrent lab makes Docker refuse, and the next free slot is tried.
 */
export async function createLabNetwork(options: CreateNetworkOptions): Promise<LabNetwork> {
  const docker = options.docker ?? dockerClient();
  const names = networkNames(options.lab, options.name);
  const ipv6 = options.ipv6 ?? true;
  const start = Number.parseInt(names.bridge.slice(5, 9), 16) % V4_SLOTS;
  const used = await usedSlots(docker);
  let lastError: unknown;
  for (let step = 0; step < V4_SLOTS; step++) {
    const slot = (start + step) % V4_SLOTS;
    if (used.has(slot)) continue;
    const plan = planFor(slot);
    const ipam = [
      { Subnet: plan.ipv4.subnet, Gateway: plan.ipv4.gateway, IPRange: plan.ipv4.dockerRange },
    ];
    if (ipv6) {
      ipam.push({
        Subnet: plan.ipv6.subnet,
        Gateway: plan.ipv6.gateway,
        IPRange: plan.ipv6.dockerRange,
      });
    }
    try {
      const network = await docker.createNetwork({
        Name: names.docker,
        Driver: 'bridge',
        Internal: true,
        EnableIPv6: ipv6,
        CheckDuplicate: true,
        IPAM: { Driver: 'default', Config: ipam },
        Options: { 'com.docker.network.bridge.name': names.bridge },
        Labels: {
          [LABEL_LAB]: options.lab,
          [LABEL_NODE]: `network:${options.name}`,
          [LABEL_RUN]: options.run,
          ...(options.labels ?? {}),
        },
      });
      try {
        await installRules(names.bridge, ipv6);
      } catch (error) {
        await network.remove().catch(() => {});
        throw error;
      }
      return {
        id: network.id,
        name: names.docker,
        lab: options.lab,
        bridge: names.bridge,
        slot,
        ipv4: plan.ipv4,
        ipv6: ipv6 ? plan.ipv6 : undefined,
      };
    } catch (error) {
      lastError = error;
      const message = (error as Error).message ?? '';
      if (/overlap|already (exists|in use)/i.test(message) && !/network with name/i.test(message)) {
        used.add(slot);
        continue;
      }
      throw new LabError(
        'NETWORK_ALLOCATION_FAILED',
        `lab "${options.lab}" > network "${options.name}": ${message}`,
        {
          cause: error,
        },
      );
    }
  }
  throw new LabError(
    'NETWORK_ALLOCATION_FAILED',
    `lab "${options.lab}" > network "${options.name}": no free /24 left in 198.18.0.0/15`,
    { cause: lastError },
  );
}

/** Removes a lab network and its firewall rules; containers still attached are disconnected. */
export async function removeLabNetwork(
  network: Pick<LabNetwork, 'id' | 'bridge'>,
  docker = dockerClient(),
) {
  const handle = docker.getNetwork(network.id);
  try {
    const info = (await handle.inspect()) as { Containers?: Record<string, unknown> };
    for (const id of Object.keys(info.Containers ?? {})) {
      await handle.disconnect({ Container: id, Force: true }).catch(() => {});
    }
    await handle.remove();
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode !== 404) throw error;
  } finally {
    await removeRules(network.bridge);
  }
}
