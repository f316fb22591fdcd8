import type { KubeObject } from '../contract.js';
import { badRequest, unsupportedMediaType } from '../status-errors.js';
import { decodeMessage, table } from './decode-message.js';
import { topLevelTables } from './field-tables.js';
import { ProtobufError } from './wire-reader.js';

/** The media type kubectl's typed clients send (`kubectl create deployment …`). */
export const PROTOBUF = 'application/vnd.kubernetes.protobuf';

const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

const unknown = table({
  1: ['typeMeta', table({ 1: ['apiVersion', 'string'], 2: ['kind', 'string'] })],
  2: ['raw', 'bytes'],
  3: ['contentEncoding', 'string'],
  4: ['contentType', 'string'],
});

/**
 * Decodes a Kubernetes protobuf body: the `k8s\0` magic, a runtime.Unknown envelope naming the
 * apiVersion and kind, and the object's message, decoded with the field table of that kind.
 * A malformed body is 400; a kind without a table is 415 (send JSON instead).
 */
export function decodeKubernetesProtobuf(body: Buffer): KubeObject {
  if (body.length < magic.length || !body.subarray(0, magic.length).equals(magic)) {
    throw badRequest(
      'the body of the request could not be decoded: protobuf body without the k8s\\0 prefix',
    );
  }
  try {
    const envelope = decodeMessage(body.subarray(magic.length), unknown) as {
      typeMeta?: { apiVersion?: string; kind?: string };
      raw?: string;
    };
    const apiVersion = envelope.typeMeta?.apiVersion ?? '';
    const kind = envelope.typeMeta?.kind ?? '';
    const fields = topLevelTables[`${apiVersion}/${kind}`];
    if (!fields) throw unsupportedMediaType(['application/json']);
    const object = decodeMessage(Buffer.from(envelope.raw ?? '', 'base64'), fields);
    return { apiVersion, kind, metadata: {}, ...object };
  } catch (error) {
    if (error instanceof ProtobufError) {
      throw badRequest(`the body of the request could not be decoded: ${error.message}`);
    }
    throw error;
  }
}
