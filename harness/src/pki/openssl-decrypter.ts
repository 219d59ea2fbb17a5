import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../common/exec.ts';
import type { Decrypter, RsaPadding } from './signer.ts';

/**
 * A decrypter that never holds the key: each operation runs `openssl pkeyutl` on a key reference.
 * With `-provider tpm2` in `providerArgs` and a `handle:0x81000001` key reference this is how the
 * emulated device reaches its TPM; in the lab it is a PEM file path.
 */
export class OpenSslDecrypter implements Decrypter {
  readonly certificate: Uint8Array;
  readonly #keyRef: string;
  readonly #providerArgs: readonly string[];

  constructor(certificate: Uint8Array, keyRef: string, providerArgs: readonly string[] = []) {
    this.certificate = certificate;
    this.#keyRef = keyRef;
    this.#providerArgs = providerArgs;
  }

  async decryptKey(encryptedKey: Uint8Array, padding: RsaPadding): Promise<Uint8Array> {
    const options =
      padding.scheme === 'oaep'
        ? ['-pkeyopt', 'rsa_padding_mode:oaep', '-pkeyopt', `rsa_oaep_md:${padding.hash}`]
        : ['-pkeyopt', 'rsa_padding_mode:pkcs1'];
    return this.#withFiles(async (dir) => {
      await writeFile(join(dir, 'in'), encryptedKey);
      await run('openssl', [
        'pkeyutl',
        ...this.#providerArgs,
        '-decrypt',
        '-inkey',
        this.#keyRef,
        ...options,
        '-in',
        join(dir, 'in'),
        '-out',
        join(dir, 'out'),
      ]);
      return new Uint8Array(await readFile(join(dir, 'out')));
    });
  }

  async deriveSecret(originatorSpki: Uint8Array): Promise<Uint8Array> {
    return this.#withFiles(async (dir) => {
      await writeFile(join(dir, 'peer.der'), originatorSpki);
      await run('openssl', [
        'pkeyutl',
        ...this.#providerArgs,
        '-derive',
        '-inkey',
        this.#keyRef,
        '-peerform',
        'DER',
        '-peerkey',
        join(dir, 'peer.der'),
        '-out',
        join(dir, 'out'),
      ]);
      return new Uint8Array(await readFile(join(dir, 'out')));
    });
  }

  async #withFiles<T>(work: (dir: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), 'sztp-decrypt-'));
    try {
      return await work(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
