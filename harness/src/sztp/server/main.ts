import { loadServerConfig } from './config.ts';
import { type RunningServer, startServer } from './server.ts';

const stderr = (line: string) => process.stderr.write(`${line}\n`);

/** Resolves at SIGINT or SIGTERM, after the server has closed. */
export function serveUntilSignal(server: RunningServer): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: string) => {
      stderr(`sztp-lab server: ${signal}, closing`);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void server.close().then(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * `sztp-lab server --config FILE`: loads the configuration, starts the roles it names, prints
 * one ready line (JSON with `json`) and serves until a signal.
 */
export async function serveFromConfig(file: string, json = false): Promise<void> {
  const config = await loadServerConfig(file);
  const server = await startServer(config, stderr);
  const ready = {
    url: server.url,
    admin: server.admin?.url ?? null,
    roles: config.roles,
    journal: server.state.journalPath,
  };
  const admin = ready.admin ? `, admin API at ${ready.admin}` : '';
  process.stdout.write(
    json
      ? `${JSON.stringify(ready)}\n`
      : `serving ${config.roles.join(' + ')} at ${ready.url}${admin}\n`,
  );
  await serveUntilSignal(server);
}
