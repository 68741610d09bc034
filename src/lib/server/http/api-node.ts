import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App } from '../app';
import { handleApiRequest, isApiEndpoint, type ApiRequest } from './api-core';
import type { ApiResult } from './json-response';

/** Serves a request and answers true, or answers false and leaves it untouched for SvelteKit. */
export type NodeApiHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * The REST API straight on node's req/res. Through SvelteKit an event cost about 0.65 ms of CPU,
 * more than half of it building and reading the Fetch API's Request, Response and web streams;
 * this path calls the same core (api-core.ts) without them. scripts/start.js tries it before
 * SvelteKit's handler; hooks.server.ts publishes it once the app has started. Only the exact
 * endpoint paths are taken, so a trailing slash, a GET or an unknown path still gets SvelteKit's
 * own answer (redirect, 405, 404 page).
 */
export function createNodeApiHandler(getApp: () => App): NodeApiHandler {
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    if (!isApiEndpoint(req.method ?? '', pathname)) return false;
    const fail = (e: unknown) => {
      // A caller that hung up mid-body is not a server error; anything else is logged as one.
      if (req.destroyed && !req.complete) return;
      console.error('[nurture] api:', e);
      if (!res.headersSent) writeResult(res, { status: 500, headers: { 'content-type': 'application/json; charset=utf-8' }, json: { error: 'internal', message: 'Internal error' } });
      else res.destroy();
    };
    try {
      // getApp() throws once the runtime has stopped; that must not escape into node's listener.
      handleApiRequest(getApp(), fromNodeRequest(req, pathname)).then((r) => writeResult(res, r), fail);
    } catch (e) {
      fail(e);
    }
    return true;
  };
}

function fromNodeRequest(req: IncomingMessage, pathname: string): ApiRequest {
  return {
    method: req.method ?? 'GET',
    pathname,
    header: (name) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(', ') : v;
    },
    readBody: (limit) => readCapped(req, limit)
  };
}

function readCapped(req: IncomingMessage, limit: number): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    function onData(chunk: Buffer) {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      done();
      // Keep discarding what still arrives: the 413 goes out with `Connection: close`, and unread
      // bytes left in the socket when it closes would make the kernel reset it, losing the answer.
      req.resume();
      resolve(null);
    }
    function onEnd() {
      done();
      resolve(chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks, size).toString('utf8'));
    }
    function onError(e: Error) {
      done();
      reject(e);
    }
    function onClose() {
      done();
      reject(new Error('the request was closed before its body ended'));
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

function writeResult(res: ServerResponse, r: ApiResult) {
  const body = JSON.stringify(r.json);
  res.writeHead(r.status, { ...r.headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
