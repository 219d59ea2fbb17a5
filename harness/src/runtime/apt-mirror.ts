import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The Debian mirror this machine's apt is configured with, read at run time so that no host
 * name is ever written into the project's files. Understands one-line `deb URI SUITE ...`
 * entries and deb822 `.sources` stanzas (`URIs:` / `Suites:`).
 */
export function findDebianMirror(aptDir = '/etc/apt'): string | undefined {
  const candidates: string[] = [];
  const files: string[] = [];
  try {
    files.push(join(aptDir, 'sources.list'));
    for (const name of readdirSync(join(aptDir, 'sources.list.d'))) {
      if (name.endsWith('.list') || name.endsWith('.sources')) {
        files.push(join(aptDir, 'sources.list.d', name));
      }
    }
  } catch {
    // A missing sources.list.d leaves only sources.list to read.
  }
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    candidates.push(...mirrorsIn(text));
  }
  // The security archive cannot bootstrap a system: prefer the main archive.
  return candidates.find((uri) => !/security/.test(uri)) ?? candidates[0];
}

export function mirrorsIn(text: string): string[] {
  const found: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#')) continue;
    const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/.exec(line);
    if (oneLine?.[1]) found.push(oneLine[1]);
    const stanza = /^URIs:\s*(.+)$/i.exec(line);
    if (stanza?.[1]) found.push(...stanza[1].split(/\s+/).filter(Boolean));
  }
  return found.filter((uri) => /^https?:\/\//.test(uri));
}
