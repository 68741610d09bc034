import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { Ids } from '../ports';
import { InputError, NotFoundError } from './deps';

/**
 * Uploaded CSV files wait under DATA_DIR/uploads until they are imported. Files can be large,
 * so they are streamed to disk, never held in memory. An upload id is a server-made UUID and is
 * checked against that shape before it becomes a path, so no id can point outside the folder.
 */
export interface UploadMeta {
  id: string;
  filename: string;
  size: number;
  userId: string | null;
  uploadedAt: number;
}

const ID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function createUploadStore(dir: string, ids: Ids, maxBytes = 512 * 1024 * 1024) {
  const csvPath = (id: string) => path.join(dir, `${id}.csv`);
  const metaPath = (id: string) => path.join(dir, `${id}.json`);

  return {
    dir,
    async save(body: ReadableStream<Uint8Array> | Readable, filename: string, userId: string | null, now: number): Promise<UploadMeta> {
      await fs.promises.mkdir(dir, { recursive: true });
      const id = ids.newId();
      const file = csvPath(id);
      let size = 0;
      const source = body instanceof Readable ? body : Readable.fromWeb(body as WebReadableStream<Uint8Array>);
      const counted = source.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) source.destroy(new InputError([{ field: 'file', message: `is larger than ${Math.round(maxBytes / 1048576)} MB` }]));
      });
      try {
        await pipeline(counted, fs.createWriteStream(file));
      } catch (e) {
        await fs.promises.rm(file, { force: true });
        throw e;
      }
      const meta: UploadMeta = { id, filename: cleanFilename(filename), size, userId, uploadedAt: now };
      await fs.promises.writeFile(metaPath(id), JSON.stringify(meta));
      return meta;
    },
    async get(id: string): Promise<UploadMeta & { path: string }> {
      if (!ID_SHAPE.test(id)) throw new NotFoundError('No such upload');
      try {
        const meta = JSON.parse(await fs.promises.readFile(metaPath(id), 'utf8')) as UploadMeta;
        return { ...meta, path: csvPath(id) };
      } catch {
        throw new NotFoundError('No such upload');
      }
    },
    async remove(id: string) {
      if (!ID_SHAPE.test(id)) return;
      await fs.promises.rm(csvPath(id), { force: true });
      await fs.promises.rm(metaPath(id), { force: true });
    }
  };
}

export type UploadStore = ReturnType<typeof createUploadStore>;

/** The name is only shown back to people; keep it short and free of path parts. */
export function cleanFilename(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = base.replace(/[\u0000-\u001f]/g, '').trim().slice(0, 200);
  return clean || 'upload.csv';
}

/** The upload folder of an app: DATA_DIR/uploads. */
export function uploadStoreFor(app: { config: { DATA_DIR: string }; deps: { ids: Ids } }): UploadStore {
  return createUploadStore(path.resolve(app.config.DATA_DIR, 'uploads'), app.deps.ids);
}
