import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LabError } from '../../common/errors.ts';
import type { Endpoint, ServerConfig } from './config.ts';
import { type FaultTable, parseFault } from './faults.ts';
import { isValidSerial } from './records.ts';
import type { ServerState } from './state.ts';

export interface AdminServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface AdminContext {
  state: ServerState;
  faults: FaultTable;
  config: ServerConfig;
  port: number;
}

class AdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const LIMIT = 1024 * 1024;

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > LIMIT) throw new AdminError(413, `the body is larger than ${LIMIT} octets`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new AdminError(400, `the body is not JSON: ${(error as Error).message}`);
  }
}

function send(res: ServerResponse, status: number, value: unknown): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.end(`${JSON.stringify(value)}\n`);
}

function numberParam(params: URLSearchParams, name: string, fallback: number): number {
  const raw = params.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new AdminError(400, `query parameter ${name} must be a non-negative integer`);
  return n;
}

function deviceSummary(ctx: AdminContext, serial: string) {
  const record = ctx.state.records.get(serial);
  return {
    serial,
    kind: record?.response.kind,
    signed: record?.signed,
    progress: ctx.state.progress.get(serial)?.length ?? 0,
  };
}

/**
 * The admin API, JSON over plain HTTP on its own port (bind it to loopback or a management
 * network; devices never reach it). Read the audit log and progress reports, change device
 * records, arm and disarm faults. The records' passwords are never returned.
 */
async function route(ctx: AdminContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const parts = url.pathname
    .split('/')
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        throw new AdminError(400, `bad percent-encoding in ${url.pathname}`);
      }
    });
  const method = req.method ?? 'GET';
  const [top, id, sub] = parts;
  const { state, faults } = ctx;

  if (top === 'health' && method === 'GET') {
    return send(res, 200, {
      ok: true,
      roles: ctx.config.roles,
      port: ctx.port,
      devices: state.records.size,
      lastSeq: state.lastSeq,
      journal: state.journalPath,
      journalErrors: state.journalErrors,
    });
  }
  if (top === 'audit' && !id && method === 'GET') {
    const since = numberParam(url.searchParams, 'since', 0);
    const limit = numberParam(url.searchParams, 'limit', 1000);
    const serial = url.searchParams.get('serial');
    const rpc = url.searchParams.get('rpc');
    const entries = state.audit
      .filter(
        (e) =>
          e.seq > since &&
          (serial === null || e.serial === serial) &&
          (rpc === null || e.rpc === rpc),
      )
      .slice(-limit);
    return send(res, 200, { entries });
  }
  if (top === 'progress' && !id && method === 'GET') {
    return send(res, 200, { progress: Object.fromEntries(state.progress) });
  }
  if (top === 'devices' && !id && method === 'GET') {
    return send(res, 200, { devices: [...state.records.keys()].map((s) => deviceSummary(ctx, s)) });
  }
  if (top === 'devices' && id) {
    if (!isValidSerial(id)) throw new AdminError(400, `"${id}" is not a serial number`);
    if (sub === 'progress' && method === 'GET') {
      return send(res, 200, { serial: id, progress: state.progress.get(id) ?? [] });
    }
    if (sub !== undefined) throw new AdminError(404, `no resource ${url.pathname}`);
    if (method === 'GET') {
      const record = state.records.get(id);
      if (!record) throw new AdminError(404, `no device ${id}`);
      const { password, ...source } = record.source as { password?: string };
      return send(res, 200, {
        ...deviceSummary(ctx, id),
        record: source,
        hasPassword: password !== undefined,
        progress: state.progress.get(id) ?? [],
      });
    }
    if (method === 'PUT') {
      const body = await jsonBody(req);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new AdminError(400, 'a device record is a JSON object');
      }
      try {
        await state.setRecord(id, body as Record<string, unknown>, `PUT /devices/${id}`);
      } catch (error) {
        if (error instanceof LabError) throw new AdminError(400, error.message);
        throw error;
      }
      return send(res, 200, deviceSummary(ctx, id));
    }
    if (method === 'DELETE') {
      if (!state.records.has(id)) throw new AdminError(404, `no device ${id}`);
      await state.setRecord(id, null);
      return send(res, 200, { serial: id, removed: true });
    }
    throw new AdminError(405, `${method} is not allowed on ${url.pathname}`);
  }
  if (top === 'faults') {
    if (!id && method === 'GET') return send(res, 200, { faults: faults.list() });
    if (!id && method === 'POST') {
      try {
        return send(res, 201, faults.add(parseFault(await jsonBody(req))));
      } catch (error) {
        if (error instanceof LabError) throw new AdminError(400, error.message);
        throw error;
      }
    }
    if (!id && method === 'DELETE') {
      faults.clear();
      return send(res, 200, { cleared: true });
    }
    if (id && method === 'DELETE') {
      if (!faults.remove(id)) throw new AdminError(404, `no fault ${id}`);
      return send(res, 200, { id, removed: true });
    }
    throw new AdminError(405, `${method} is not allowed on ${url.pathname}`);
  }
  throw new AdminError(404, `no resource ${url.pathname}`);
}

export async function startAdmin(endpoint: Endpoint, ctx: AdminContext): Promise<AdminServer> {
  const server = createServer((req, res) => {
    route(ctx, req, res).catch((error: unknown) => {
      if (res.headersSent) return res.destroy();
      if (error instanceof AdminError)
        send(res, error.status, { error: { message: error.message } });
      else send(res, 500, { error: { message: (error as Error).message } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(endpoint.port, endpoint.host, () => resolve());
  }).catch((error: Error) => {
    throw new LabError(
      'SERVER_START_FAILED',
      `admin API: cannot listen on ${endpoint.host}:${endpoint.port}: ${error.message}`,
    );
  });
  const port = (server.address() as AddressInfo).port;
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
