import { mkdir } from 'node:fs/promises';
import { writeHtmlReport } from './html.ts';
import { writeJsonReport } from './json.ts';
import { writeJUnitReport } from './junit.ts';
import type { Report } from './model.ts';

export type ReporterName = 'json' | 'junit' | 'html';

export const REPORTERS: readonly ReporterName[] = ['json', 'junit', 'html'];

const WRITERS: Record<ReporterName, (report: Report, outDir: string) => Promise<string>> = {
  json: writeJsonReport,
  junit: writeJUnitReport,
  html: writeHtmlReport,
};

/**
 * Writes the chosen reports into one folder and gives the files written. Attachments are
 * expected there already (storeAttachment puts them in place while the run goes on).
 */
export async function writeReports(
  report: Report,
  outDir: string,
  reporters: readonly ReporterName[] = REPORTERS,
): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const files: string[] = [];
  for (const name of new Set(reporters)) files.push(await WRITERS[name](report, outDir));
  return files;
}
