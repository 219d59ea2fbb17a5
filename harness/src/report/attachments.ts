import { createHash } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Attachment } from './model.ts';

export const ATTACHMENTS_DIR = 'attachments';

/** File extensions for the content types the lab produces; others keep the name's own. */
const EXTENSIONS: Record<string, string> = {
  'text/plain': 'txt',
  'application/json': 'json',
  'application/xml': 'xml',
  'application/yaml': 'yaml',
  'application/vnd.tcpdump.pcap': 'pcap',
  'application/pkcs7-mime': 'p7m',
  'application/pkix-cert': 'cer',
  'application/x-pem-file': 'pem',
  'image/png': 'png',
  'text/html': 'html',
};

export interface AttachmentInput {
  name: string;
  contentType: string;
  body: Uint8Array | string;
}

/**
 * Stores an attachment under attachments/<sha256>.<ext> in the report folder. Storing by
 * content makes a second copy of the same log free and lets shard folders merge without
 * renaming anything.
 */
export async function storeAttachment(
  reportDir: string,
  input: AttachmentInput,
): Promise<Attachment> {
  const body = typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : input.body;
  const hash = createHash('sha256').update(body).digest('hex');
  const extension = extensionFor(input.name, input.contentType);
  const path = `${ATTACHMENTS_DIR}/${hash}${extension ? `.${extension}` : ''}`;
  const file = join(reportDir, path);

  await mkdir(join(reportDir, ATTACHMENTS_DIR), { recursive: true });
  const existing = await stat(file).catch(() => undefined);
  if (existing?.size !== body.byteLength) await writeFile(file, body);

  return { name: input.name, contentType: input.contentType, path, bytes: body.byteLength };
}

function extensionFor(name: string, contentType: string): string {
  const known = EXTENSIONS[contentType.split(';')[0]?.trim().toLowerCase() ?? ''];
  if (known) return known;
  const own = extname(name).slice(1).toLowerCase();
  return /^[a-z0-9]{1,8}$/.test(own) ? own : 'bin';
}

/** Whether an attachment is text a person can read in the page (logs, JSON, XML, YAML). */
export function isTextAttachment(attachment: Attachment): boolean {
  const type = attachment.contentType.toLowerCase();
  return (
    type.startsWith('text/') ||
    /^application\/([a-z.+-]*\+)?(json|xml|yaml|x-yaml|x-pem-file)\b/.test(type)
  );
}
