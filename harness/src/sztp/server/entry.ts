/**
 * The lab's server node entry: `--config FILE [--json]`, without the rest of the CLI. The lab
 * runs it from a prebuilt bundle (runtime/bundles.ts), so a server answers sooner after its
 * container starts; `sztp-lab server` is the same code behind the full CLI.
 */
import { errorMessage } from '../../common/errors.ts';
import { serveFromConfig } from './main.ts';

const at = process.argv.indexOf('--config');
const config = at > 0 ? process.argv[at + 1] : undefined;
if (!config) {
  process.stderr.write('sztp-lab server: --config FILE is required\n');
  process.exit(2);
}
try {
  await serveFromConfig(config, process.argv.includes('--json'));
} catch (error) {
  process.stderr.write(`sztp-lab server: ${errorMessage(error)}\n`);
  process.exit(1);
}
