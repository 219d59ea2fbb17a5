/** The report package: what the runner calls to write reports, and the reporters themselves. */
export { type AttachmentInput, isTextAttachment, storeAttachment } from './attachments.ts';
export { ListReporter } from './console.ts';
export { renderHtml, writeHtmlReport } from './html.ts';
export { readJsonReport, writeJsonReport } from './json.ts';
export { renderJUnit, writeJUnitReport } from './junit.ts';
export { type MergeResult, mergeReports } from './merge.ts';
export type * from './model.ts';
export { computeStats, formatDuration, isFailure } from './stats.ts';
export { REPORTERS, type ReporterName, writeReports } from './write.ts';
