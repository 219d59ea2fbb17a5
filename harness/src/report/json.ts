import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, LabError } from '../common/errors.ts';
import type { Report } from './model.ts';
import { validateReport } from './validate.ts';

export const REPORT_JSON = 'report.json';

/** Writes the model as report.json in the report folder and gives the file's path. */
export async function writeJsonReport(report: Report, outDir: string): Promise<string> {
  const file = join(outDir, REPORT_JSON);
  await writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

/** Reads a report.json (or the report.json inside a folder) and checks its shape. */
export async function readJsonReport(path: string): Promise<Report> {
  const file = path.endsWith('.json') ? path : join(path, REPORT_JSON);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new LabError(
      'REPORT_INVALID',
      `${file}: cannot read the report: ${errorMessage(error)}`,
      {
        cause: error,
        details: { file },
      },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new LabError('REPORT_INVALID', `${file}: not valid JSON: ${errorMessage(error)}`, {
      cause: error,
      details: { file },
    });
  }
  return validateReport(parsed, file);
}
