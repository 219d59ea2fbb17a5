import type { Command } from 'commander';
import { LabError } from '../common/errors.ts';
import {
  buildImages,
  IMAGE_NAMES,
  type ImageName,
  imageStates,
  isImageName,
} from '../runtime/images.ts';
import { makeOutput } from './output.ts';

export function registerImages(program: Command): void {
  const images = program.command('images').description('build and inspect the lab images');

  images
    .command('build')
    .description('build the base and role images; an image whose inputs did not change is skipped')
    .option('--only <names>', `comma-separated images to build (${IMAGE_NAMES.join(', ')})`)
    .option('--force', 'rebuild even when the inputs did not change')
    .option('--verbose', 'show every line of the builds')
    .option('--json', 'print the results as JSON')
    .action(async (opts: { only?: string; force?: boolean; verbose?: boolean; json?: boolean }) => {
      const out = makeOutput(Boolean(opts.json));
      const only = parseOnly(opts.only);
      const results = await buildImages({
        only,
        force: Boolean(opts.force),
        onEvent: (event) => {
          if (event.kind === 'start')
            out.progress(`[${event.index}/${event.total}] ${event.image}`);
          else if (event.kind === 'done') {
            const what = event.status === 'built' ? 'built' : 'up to date, skipped';
            out.progress(
              `      ${event.image}: ${what} (${(event.durationMs / 1000).toFixed(1)} s)`,
            );
          } else if (
            opts.verbose ||
            /^Step \d+\/\d+|^(debootstrap|docker import|no registry)/.test(event.line)
          ) {
            out.progress(`      ${event.image} | ${event.line}`);
          }
        },
      });
      const human = results
        .map(
          (r) => `${r.tag.padEnd(28)} ${r.status.padEnd(8)} ${(r.durationMs / 1000).toFixed(1)} s`,
        )
        .join('\n');
      out.result({ ok: true, images: results }, human);
    });

  images
    .command('status')
    .description('show which images are present and current')
    .option('--json', 'print the states as JSON')
    .action(async (opts: { json?: boolean }) => {
      const out = makeOutput(Boolean(opts.json));
      const states = await imageStates();
      const human = states
        .map(
          (s) => `${s.tag.padEnd(28)} ${s.present ? (s.current ? 'current' : 'stale') : 'missing'}`,
        )
        .join('\n');
      out.result({ images: states }, human);
    });
}

function parseOnly(value: string | undefined): ImageName[] | undefined {
  if (value === undefined) return undefined;
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!isImageName(name)) {
      throw new LabError(
        'INVALID_ARGUMENT',
        `--only: unknown image "${name}" (known: ${IMAGE_NAMES.join(', ')})`,
      );
    }
  }
  return names as ImageName[];
}
