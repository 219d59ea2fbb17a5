import { run } from '../common/exec.ts';

/**
 * Host firewall rules that go with a lab network. Each rule carries the comment
 * `sztp-lab:<bridge>` so that teardown, and cleanup after a crash, can find it again.
 */
export const RULE_COMMENT_PREFIX = 'sztp-lab:';

interface Rule {
  tool: 'iptables' | 'ip6tables';
  chain: string;
  spec: string[];
}

function rulesFor(bridge: string, ipv6: boolean): Rule[] {
  const comment = ['-m', 'comment', '--comment', `${RULE_COMMENT_PREFIX}${bridge}`];
  // Docker drops broadcasts from 0.0.0.0 on internal networks; DHCPv4 needs them on the bridge.
  const rules: Rule[] = [
    {
      tool: 'iptables',
      chain: 'DOCKER-USER',
      spec: [
        '-i',
        bridge,
        '-o',
        bridge,
        '-p',
        'udp',
        '-m',
        'multiport',
        '--dports',
        '67,68',
        ...comment,
        '-j',
        'ACCEPT',
      ],
    },
  ];
  if (ipv6) {
    // Docker 20.10 does not enforce `internal` for IPv6: nothing may leave or enter the bridge.
    rules.push(
      {
        tool: 'ip6tables',
        chain: 'FORWARD',
        spec: ['-i', bridge, '!', '-o', bridge, ...comment, '-j', 'DROP'],
      },
      {
        tool: 'ip6tables',
        chain: 'FORWARD',
        spec: ['!', '-i', bridge, '-o', bridge, ...comment, '-j', 'DROP'],
      },
      // The host is not a lab node either: no connection from the lab to the host's own IPv6
      // stack. Replies to connections the harness opens, and neighbour discovery, still pass.
      {
        tool: 'ip6tables',
        chain: 'INPUT',
        spec: [
          '-i',
          bridge,
          '!',
          '-p',
          'ipv6-icmp',
          '-m',
          'conntrack',
          '--ctstate',
          'NEW',
          ...comment,
          '-j',
          'DROP',
        ],
      },
    );
  }
  return rules;
}

/** Installs the rules for a bridge (idempotent: an existing identical rule is not added twice). */
export async function installRules(bridge: string, ipv6: boolean): Promise<void> {
  for (const rule of rulesFor(bridge, ipv6)) {
    const present = await run(rule.tool, ['-w', '-C', rule.chain, ...rule.spec], {
      allowFailure: true,
    });
    if (present.exitCode !== 0) await run(rule.tool, ['-w', '-I', rule.chain, ...rule.spec]);
  }
}

export interface RemovedRule {
  tool: string;
  rule: string;
}

/**
 * Removes every rule whose comment names the bridge, or every sztp-lab rule when no bridge
 * is given. Reads the live rule set, so rules left by a crashed run are found too.
 */
export async function removeRules(bridge?: string): Promise<RemovedRule[]> {
  const removed: RemovedRule[] = [];
  const wanted = bridge === undefined ? RULE_COMMENT_PREFIX : `${RULE_COMMENT_PREFIX}${bridge}`;
  for (const tool of ['iptables', 'ip6tables'] as const) {
    const listing = await run(tool, ['-w', '-S'], { allowFailure: true });
    if (listing.exitCode !== 0) continue;
    for (const line of listing.stdout.split('\n')) {
      if (!line.startsWith('-A ')) continue;
      const match = /--comment "?([^" ]+)"?/.exec(line);
      const comment = match?.[1];
      if (!comment) continue;
      if (bridge === undefined ? !comment.startsWith(wanted) : comment !== wanted) continue;
      const args = splitRule(line.replace(/^-A /, '-D '));
      const result = await run(tool, ['-w', ...args], { allowFailure: true });
      if (result.exitCode === 0) removed.push({ tool, rule: line });
    }
  }
  return removed;
}

/** Splits an iptables -S line into arguments, honouring double quotes. */
export function splitRule(line: string): string[] {
  const args: string[] = [];
  const pattern = /"([^"]*)"|(\S+)/g;
  for (let m = pattern.exec(line); m !== null; m = pattern.exec(line))
    args.push(m[1] ?? m[2] ?? '');
  return args;
}

/** Lists the sztp-lab rules currently installed (for doctor and for tests). */
export async function listRules(): Promise<RemovedRule[]> {
  const found: RemovedRule[] = [];
  for (const tool of ['iptables', 'ip6tables'] as const) {
    const listing = await run(tool, ['-w', '-S'], { allowFailure: true });
    for (const line of listing.stdout.split('\n')) {
      if (line.includes(RULE_COMMENT_PREFIX)) found.push({ tool, rule: line });
    }
  }
  return found;
}
